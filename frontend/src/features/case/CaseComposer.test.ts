import { afterEach, describe, expect, it, vi } from "vitest";

import CaseComposer from "./CaseComposer.vue";
import { cleanup, fakeFetch, flush, mountCase } from "./testing";

const ticket = {
  id: 5,
  number: 1042,
  subject: "Roaming",
  status: "open",
  priority: "urgent",
  channel: "sms",
  tier: "gold",
  customer: { id: 3, name: "Li Na" },
  department: { id: 2, name: "Front line" },
  assignee: null,
  version: 1,
  next_due_at: null,
  messages: [],
};

const world = () =>
  fakeFetch({
    "GET /api/v1/customers/3": { body: { identities: [{ kind: "phone", value: "+8613800138000", display_value: null }] } },
    "GET /api/v1/departments": {
      body: [
        { id: 1, name: "Beijing Centre", parent_id: null, is_active: true },
        { id: 2, name: "Front line", parent_id: 1, is_active: true },
        { id: 3, name: "Billing back office", parent_id: 1, is_active: true },
      ],
    },
    "GET /api/v1/tickets/5/invitations": { body: [] },
    "GET /api/v1/agents": {
      body: {
        items: [
          { id: 11, name: "Bo Colleague", email: "bo@example.test", role: "agent", is_active: true, department_ids: [2] },
          { id: 12, name: "Cy Backoffice", email: "cy@example.test", role: "back_office", is_active: true, department_ids: [3] },
        ],
        next_cursor: null,
      },
    },
    "POST /api/v1/tickets/5/messages": (call) =>
      (call.body as { kind: string }).kind === "reply"
        ? {
            status: 409,
            body: {
              type: "https://service-hub.dev/problems/reply-collision",
              detail: "Bo replied",
              errors: { collision: { newer_replies: [{ message_id: 99, agent_id: 11, name: "Bo Colleague", created_at: "" }], typing: [] } },
            },
          }
        : { status: 201, body: { id: 100, collision: null } },
  });

async function typeInto(box: HTMLTextAreaElement, text: string): Promise<void> {
  box.value = text;
  box.setSelectionRange(text.length, text.length);
  box.dispatchEvent(new Event("input"));
  await flush();
  await flush();
}

describe("CaseComposer", () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("says where a reply goes", async () => {
    world();
    const wrapper = await mountCase(CaseComposer, { ticket, seenMessageId: 7 });
    await flush();
    expect(wrapper.find("[data-testid='reply-destination']").text()).toBe("Reply via SMS to Li Na (+8613800138000)");
  });

  it("completes @mentions in a note with the stored syntax and posts it", async () => {
    const calls = world();
    const wrapper = await mountCase(CaseComposer, { ticket, initialMode: "note" });
    const box = wrapper.find("textarea").element as HTMLTextAreaElement;
    await typeInto(box, "Please call her @B");
    const options = wrapper.findAll("[role='option']");
    // Cy works in a department that does not see the case; Bo and the departments above it do.
    expect(options.map((o) => o.text())).toEqual(["Bo Colleague", "Beijing Centre · Department"]);
    expect(calls.some((c) => c.url.startsWith("/api/v1/agents?q=B"))).toBe(true);
    expect(box.getAttribute("aria-activedescendant")).toBe(options[0].attributes("id"));

    await wrapper.find("textarea").trigger("keydown", { key: "Enter" });
    await flush();
    expect(box.value).toBe("Please call her @[Bo Colleague](agent:11) ");
    expect(wrapper.findAll("[role='option']")).toHaveLength(0);

    await wrapper.find("textarea").setValue(box.value + "today");
    await wrapper.find("textarea").trigger("keydown", { key: "Enter", ctrlKey: true });
    await flush();
    await flush();
    expect(calls.at(-1)).toMatchObject({ method: "POST", body: { kind: "note", body_text: "Please call her @[Bo Colleague](agent:11) today" } });
    expect(wrapper.emitted("posted")).toEqual([["note"]]);
  });

  it("sends a reply with what it has seen and explains a colleague's newer reply", async () => {
    const calls = world();
    const wrapper = await mountCase(CaseComposer, { ticket, seenMessageId: 7 });
    await wrapper.find("textarea").setValue("We reset your roaming.");
    expect(wrapper.emitted("typing")).toBeTruthy();
    await wrapper.find("button.n-button--primary-type").trigger("click");
    await flush();
    await flush();
    expect(calls.at(-1)?.body).toEqual({ kind: "reply", body_text: "We reset your roaming.", seen_message_id: 7, if_no_newer_reply: true });
    expect(wrapper.find("[data-testid='composer-error']").text()).toBe(
      "A colleague replied while you were typing. Read their reply first. Bo Colleague replied after the message you last saw. Read it before replying again.",
    );
    expect((wrapper.find("textarea").element as HTMLTextAreaElement).value).toBe("We reset your roaming."); // kept, not lost
  });
});
