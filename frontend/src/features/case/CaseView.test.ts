import { flushPromises, mount } from "@vue/test-utils";
import { NMessageProvider } from "naive-ui";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, describe, expect, it, vi } from "vitest";
import { defineComponent, h } from "vue";
import { createMemoryHistory, createRouter } from "vue-router";

import { i18n, setLocale, type Locale } from "@/i18n";
import { realtime, type OutboxEvent } from "@/realtime/socket";

import CaseView from "./CaseView.vue";
import { fakeFetch } from "./testing";

const ticket = {
  id: 5,
  number: 1042,
  subject: "Billed for an SMS bundle I cancelled",
  status: "open",
  priority: "normal",
  channel: "sms",
  tier: "normal",
  customer: { id: 3, name: "Wang Fang" },
  department: { id: 7, name: "Billing back office" },
  assignee: null,
  version: 4,
  next_due_at: null,
  messages: [],
};
const caseState = { ticket_id: 5, version: 4, workflow_name: "Complaint", step: "handle", step_name: "Handle 办理", finished: false, clocks: [], actions: [] };
// What the timeline API returns for an escalation rung (service_hub/collab/timeline.py, escalation.py).
const warning = { kind: "sla", at: "2026-05-01T08:00:00+00:00", id: 77, clock: "resolution", event: "warning", due_at: null };

let seq = 0;
const mounted: Array<{ unmount(): void }> = [];

afterEach(() => {
  mounted.splice(0).forEach((wrapper) => wrapper.unmount());
  document.body.innerHTML = "";
  vi.unstubAllGlobals();
});

async function openCase(locale: Locale) {
  let warned = false;
  const calls = fakeFetch({
    "GET /api/v1/tickets/5": { body: ticket },
    "GET /api/v1/tickets/5/case": { body: caseState },
    // The first page is empty; after the warning, the tail (asked with the cursor) holds it.
    "GET /api/v1/tickets/5/timeline": (call) => ({
      body: { items: warned && call.url.includes("cursor=T1") ? [warning] : [], next_cursor: null, prev_cursor: null, tail_cursor: "T1" },
    }),
    "GET /api/v1/customers/3": { body: { identities: [] } },
  });
  setLocale(locale);
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/tickets/:id", component: CaseView }] });
  await router.push("/tickets/5");
  const Harness = defineComponent({ setup: () => () => h(NMessageProvider, null, { default: () => h(CaseView) }) });
  const wrapper = mount(Harness, { global: { plugins: [i18n, router, pinia] }, attachTo: document.body });
  mounted.push(wrapper);
  await flushPromises();
  const announce = (type: string) => {
    warned = true;
    const event: OutboxEvent = { seq: ++seq, type, data: { ticket_id: 5, clock: "resolution" }, at: "" };
    (realtime as unknown as { apply(e: OutboxEvent): void }).apply(event);
  };
  return { wrapper, calls, announce };
}

describe("CaseView live SLA events", () => {
  it("fetches the timeline's tail when the escalation announces a warning, and says it", async () => {
    const { wrapper, calls, announce } = await openCase("en");
    expect(wrapper.find("[data-testid='case-subject']").text()).toBe(ticket.subject);
    expect(wrapper.text()).not.toContain("SLA Resolution");
    announce("sla.warning");
    await flushPromises();
    expect(calls.some((c) => c.url.includes("/timeline?cursor=T1"))).toBe(true);
    expect(wrapper.find("[data-kind='sla']").text()).toContain("SLA Resolution: warning");
  });

  it("names the rung in Chinese too", async () => {
    const { wrapper, announce } = await openCase("zh-CN");
    announce("sla.warning");
    await flushPromises();
    expect(wrapper.find("[data-kind='sla']").text()).toContain("SLA 解决时限：预警");
  });

  it("ignores another ticket's warning", async () => {
    const { calls } = await openCase("en");
    const before = calls.length;
    const event: OutboxEvent = { seq: ++seq, type: "sla.warning", data: { ticket_id: 6 }, at: "" };
    (realtime as unknown as { apply(e: OutboxEvent): void }).apply(event);
    await flushPromises();
    expect(calls.slice(before).filter((c) => c.url.includes("/timeline"))).toHaveLength(0);
  });
});

describe("CaseView live call-backs", () => {
  it("re-reads the newest page on call.updated, so a call entry changes in place", async () => {
    let status = "dialing";
    const call = () => ({ kind: "call", at: "2026-05-01T08:00:00+00:00", id: 9, direction: "outbound", status, talk_seconds: null });
    fakeFetch({
      "GET /api/v1/tickets/5": { body: ticket },
      "GET /api/v1/tickets/5/case": { body: caseState },
      "GET /api/v1/tickets/5/timeline": () => ({ body: { items: [call()], next_cursor: null, prev_cursor: null, tail_cursor: "T1" } }),
      "GET /api/v1/customers/3": { body: { identities: [] } },
    });
    setLocale("en");
    const pinia = createPinia();
    setActivePinia(pinia);
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/tickets/:id", component: CaseView }] });
    await router.push("/tickets/5");
    const Harness = defineComponent({ setup: () => () => h(NMessageProvider, null, { default: () => h(CaseView) }) });
    const wrapper = mount(Harness, { global: { plugins: [i18n, router, pinia] }, attachTo: document.body });
    mounted.push(wrapper);
    await flushPromises();
    expect(wrapper.findAll("[data-kind='call']")).toHaveLength(1);
    expect(wrapper.find("[data-kind='call']").text()).toContain("dialing");

    status = "completed";
    const event: OutboxEvent = { seq: ++seq, type: "call.updated", data: { ticket_id: 5, call_id: 9, status }, at: "" };
    (realtime as unknown as { apply(e: OutboxEvent): void }).apply(event);
    await flushPromises();
    expect(wrapper.findAll("[data-kind='call']")).toHaveLength(1);
    expect(wrapper.find("[data-kind='call']").text()).toContain("completed");
  });
});

