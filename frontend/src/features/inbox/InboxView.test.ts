import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { defineComponent } from "vue";
import { createMemoryHistory, createRouter } from "vue-router";

import { i18n, setLocale } from "@/i18n";
import { realtime, type OutboxEvent } from "@/realtime/socket";
import { useSessionStore } from "@/stores/session";
import { stubFetch } from "@/testing/stubFetch";

import type { TicketRow } from "./api";
import InboxView from "./InboxView.vue";
import { makeRow } from "./testRows";

const Ticket = defineComponent({ template: "<p>ticket</p>" });
const HOSTILE = '<img src=x id="injected">Refund <b>now</b>';

interface Call {
  method: string;
  url: URL;
  body: unknown;
}

let calls: Call[];
let listAnswer: (url: URL) => TicketRow[];

beforeEach(() => {
  calls = [];
  setLocale("en");
  setActivePinia(createPinia());
  stubFetch(({ method, url: input, body }) => {
    const url = new URL(input, "http://localhost");
    calls.push({ method, url, body: body ?? null });
    if (url.pathname === "/api/v1/departments") return { body: [{ id: 7, name: "Front line", kind: "department", parent_id: null, is_active: true }] };
    if (url.pathname.endsWith("/queue")) return { body: { department_id: 7, total_waiting: 4, items: [] } };
    if (url.pathname === "/api/v1/tickets") return { body: { items: listAnswer(url), next_cursor: null } };
    if (method === "PATCH") return { body: makeRow(2, { assignee: { id: 1, name: "Ada" } }) };
    return { status: 404, body: {} };
  });
});
const mounted: Array<{ unmount(): void }> = [];
afterEach(() => {
  mounted.splice(0).forEach((wrapper) => wrapper.unmount());
  vi.unstubAllGlobals();
});

async function mountAt(path: string) {
  const session = useSessionStore();
  session.me = {
    id: 1, email: "ada@example.test", name: "Ada", role: "agent", presence: "online", languages: [], skills: [],
    memberships: [{ department_id: 7, department_name: "Front line", is_lead: false }], authenticated_via: "session", scopes: [],
  };  // prettier-ignore
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/inbox/:view?", name: "inbox", component: InboxView },
      { path: "/tickets/:id", name: "ticket", component: Ticket },
    ],
  });
  await router.push(path);
  await router.isReady();
  const App = defineComponent({ template: "<RouterView />" });
  const wrapper = mount(App, { global: { plugins: [router, i18n] }, attachTo: document.body });
  mounted.push(wrapper);
  await flushPromises();
  return { wrapper, router };
}

const press = async (key: string) => {
  window.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
  await flushPromises();
};
const selected = (wrapper: ReturnType<typeof mount>) => wrapper.find("tr[aria-selected='true']").attributes("data-ticket-id");

describe("InboxView", () => {
  it("lists the view's tickets in the server's order, subjects as text, with a caption", async () => {
    listAnswer = () => [makeRow(1, { priority: "urgent", subject: "Roaming data stopped in Bangkok" }), makeRow(2, { priority: "high", subject: HOSTILE })];
    const { wrapper } = await mountAt("/inbox/all");
    const list = calls.find((c) => c.url.pathname === "/api/v1/tickets");
    expect(list?.url.searchParams.getAll("status")).toEqual(["active"]);
    expect(list?.url.searchParams.has("assignee")).toBe(false);
    const subjects = wrapper.findAll("td.subject").map((cell) => cell.text());
    expect(subjects).toEqual(["Roaming data stopped in Bangkok", HOSTILE]);
    expect(document.getElementById("injected")).toBeNull();
    expect(wrapper.find("caption").text()).toContain("All open");
    expect(wrapper.find("[aria-current='page']").text()).toBe("All open");
  });

  it("moves with j/k, stops at the last row, and r opens the ticket with the reply box", async () => {
    listAnswer = () => [makeRow(1), makeRow(2), makeRow(3)];
    const { wrapper, router } = await mountAt("/inbox/mine");
    expect(calls.find((c) => c.url.pathname === "/api/v1/tickets")?.url.searchParams.get("assignee")).toBe("me");
    expect(selected(wrapper)).toBe("1"); // the first row is selected from the start
    await press("j");
    await press("j");
    await press("j"); // stops at the last row
    expect(selected(wrapper)).toBe("3");
    await press("k");
    expect(selected(wrapper)).toBe("2");
    await press("r");
    expect(router.currentRoute.value.fullPath).toBe("/tickets/2?compose=reply");
  });

  it("ignores shortcuts typed into the search box", async () => {
    listAnswer = () => [makeRow(1), makeRow(2)];
    const { wrapper, router } = await mountAt("/inbox/all");
    const search = wrapper.find("input#inbox-search");
    (search.element as HTMLInputElement).focus();
    await search.trigger("keydown", { key: "o" });
    await flushPromises();
    expect(router.currentRoute.value.name).toBe("inbox");
  });

  it("assigns the selected ticket to me with the version it read", async () => {
    listAnswer = () => [makeRow(1), makeRow(2, { version: 5 })];
    const { wrapper } = await mountAt("/inbox/unassigned");
    expect(wrapper.text()).toContain("4 waiting in my queues");
    await press("ArrowDown");
    await press("a");
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch?.url.pathname).toBe("/api/v1/tickets/2");
    expect(patch?.body).toEqual({ version: 5, assignee_id: 1 });
    expect(wrapper.text()).toContain(`#${makeRow(2).number} is now yours.`);
  });

  it("patches the list from live events: a new ticket appears, a changed one leaves", async () => {
    vi.useFakeTimers();
    try {
      listAnswer = () => [makeRow(1, { priority: "high" }), makeRow(2, { priority: "low" })];
      const { wrapper } = await mountAt("/inbox/unassigned");
      listAnswer = (url) => (url.searchParams.getAll("id").includes("9") ? [makeRow(9, { priority: "normal", subject: "New SMS" })] : []);
      const apply = (event: OutboxEvent) => (realtime as unknown as { apply(e: OutboxEvent): void }).apply(event);
      apply({ seq: 1001, type: "ticket.created", data: { ticket_id: 9 }, at: "" });
      apply({ seq: 1002, type: "ticket.assigned", data: { ticket_id: 1 }, at: "" });
      apply({ seq: 1003, type: "message.created", data: { ticket_id: 9 }, at: "" });
      await vi.advanceTimersByTimeAsync(300);
      await flushPromises();
      const recheck = calls.filter((c) => c.url.searchParams.has("id"));
      expect(recheck).toHaveLength(1); // one request for the burst
      expect(recheck[0].url.searchParams.getAll("id").sort()).toEqual(["1", "9"]);
      expect(recheck[0].url.searchParams.get("assignee")).toBe("none");
      expect(wrapper.findAll("td.subject").map((c) => c.text())).toEqual(["New SMS", "Ticket 2"]);
    } finally {
      vi.useRealTimers();
    }
  });
});
