import { afterEach, describe, expect, it } from "vitest";
import { nextTick } from "vue";

import { realtime } from "@/realtime/socket";

import ScreenPop from "./ScreenPop.vue";
import type { CallRinging } from "./screenPop";
import ScreenPopCard from "./ScreenPopCard.vue";
import { cleanup, mountWith } from "./testing";

// The payload service_hub/inbound/voice.py sends as "call.ringing" (tests/inbound/test_voice_screen_pop.py).
const ringing: CallRinging = {
  call_id: "CA-POP",
  from: "+8613900139000",
  ivr_path: ["2"],
  queue: "billing",
  customer: {
    id: 42,
    name: "王芳",
    tier: "diamond",
    identities: [{ kind: "phone", value: "+8613900139000" }],
    open_tickets: [
      { id: 9, number: 1009, subject: "宽带断线", status: "open" },
      { id: 5, number: 1005, subject: "Invoice question", status: "pending" },
    ],
    last_contacts: [{ at: "2026-11-24T09:00:00+00:00", channel: "sms", direction: "inbound", ticket_id: 9, ticket_number: 1009, excerpt: "Still no <b>line</b>" }],
  },
};

afterEach(cleanup);

describe("ScreenPopCard", () => {
  it("shows the caller's name, tier, open tickets and last contacts from the payload", async () => {
    const { wrapper } = await mountWith(ScreenPopCard, { pop: ringing });
    expect(wrapper.get("[data-testid=screen-pop-name]").text()).toBe("王芳");
    expect(wrapper.get("[data-tier]").attributes("data-tier")).toBe("diamond");
    expect(wrapper.text()).toContain("From +8613900139000");
    expect(wrapper.text()).toContain("Queue: billing");
    const tickets = wrapper.findAll("[data-testid=screen-pop-tickets] li").map((li) => li.text());
    expect(tickets).toEqual(["#1009 宽带断线 · Open", "#1005 Invoice question · Pending"]);
    const contact = wrapper.get("[data-testid=screen-pop-contacts] li");
    expect(contact.text()).toContain("SMS (in)");
    expect(contact.text()).toContain("Still no <b>line</b>"); // the excerpt as text, never markup
    expect(contact.find("b").exists()).toBe(false);
  });

  it("opens the customer, or the newest open ticket, and then goes away", async () => {
    const { wrapper, router } = await mountWith(ScreenPopCard, { pop: ringing });
    await wrapper.findAll("button").find((b) => b.text() === "Open customer")!.trigger("click");
    await new Promise((resolve) => setTimeout(resolve));
    expect(router.currentRoute.value.fullPath).toBe("/customers/42");
    expect(wrapper.emitted("dismiss")).toHaveLength(1);
    await wrapper.findAll("button").find((b) => b.text() === "Open ticket")!.trigger("click");
    await new Promise((resolve) => setTimeout(resolve));
    expect(router.currentRoute.value.fullPath).toBe("/tickets/9");
  });

  it("an unknown caller: the number, and nothing to open", async () => {
    const { wrapper } = await mountWith(ScreenPopCard, { pop: { ...ringing, customer: null } }, "zh-CN");
    expect(wrapper.get("[data-testid=screen-pop-name]").text()).toBe("未知来电");
    expect(wrapper.text()).toContain("+8613900139000");
    expect(wrapper.findAll("button").map((b) => b.text())).toEqual(["✕"]);
  });
});

describe("ScreenPop", () => {
  it("shows a card when a call.ringing event arrives, once per call, and dismisses it", async () => {
    const { wrapper } = await mountWith(ScreenPop, {});
    expect(wrapper.findAll("[data-testid=screen-pop]")).toHaveLength(0);
    // What the socket's "event" message hands to the client (it dedupes by seq).
    const deliver = (seq: number, data: CallRinging) => realtime["apply"]({ seq, type: "call.ringing", data: data as never, at: "2026-11-24T09:00:00Z" });
    deliver(101, ringing);
    await nextTick();
    expect(wrapper.findAll("[data-testid=screen-pop]")).toHaveLength(1);
    deliver(102, { ...ringing, queue: "vip" }); // the same call again: its card is replaced
    deliver(103, { ...ringing, call_id: "CA-2", customer: null });
    await nextTick();
    const names = wrapper.findAll("[data-testid=screen-pop-name]").map((n) => n.text());
    expect(names).toEqual(["Unknown caller", "王芳"]);
    expect(wrapper.text()).toContain("Queue: vip");
    await wrapper.get("button[aria-label='Dismiss the incoming call card']").trigger("click");
    expect(wrapper.findAll("[data-testid=screen-pop]")).toHaveLength(1);
    cleanup();
    deliver(104, ringing); // unmounted: no longer listening
  });
});
