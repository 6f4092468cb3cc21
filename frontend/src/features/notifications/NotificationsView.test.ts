import { flushPromises } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { cleanup, mountWith } from "@/features/customer/testing";
import { realtime } from "@/realtime/socket";
import { stubFetch } from "@/testing/stubFetch";

import type { Notification } from "./api";
import NotificationsView from "./NotificationsView.vue";

const note = (id: number, read: boolean, extra: Partial<Notification> = {}): Notification => ({
  id,
  kind: "mention",
  ticket: { id: 10 + id, number: 1000 + id },
  message_id: 50 + id,
  department: null,
  actor: { id: 2, name: "Bo Colleague" },
  created_at: "2026-01-01T08:00:00+00:00",
  read_at: read ? "2026-01-01T09:00:00+00:00" : null,
  ...extra,
});

let calls: Array<{ url: string; method: string; body: unknown }>;
let pages: Array<{ items: Notification[]; next_cursor: string | null }>;

beforeEach(() => {
  calls = [];
  pages = [];
  // The edge: the server's answers. GETs take the next queued page; the mark-read POST answers counts.
  stubFetch(({ url, method, body }) => {
    calls.push({ url, method, body: body ?? null });
    return { body: method === "POST" ? { marked: 1, unread_count: 0 } : pages.shift() };
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
  cleanup();
});

describe("NotificationsView", () => {
  it("shows unread first and marked, marks one read, and links to the ticket", async () => {
    pages.push({ items: [note(3, true), note(2, false), note(1, false, { department: { id: 7, name: "Billing" } })], next_cursor: null });
    const { wrapper } = await mountWith(NotificationsView, {});
    await flushPromises();
    expect(calls[0].url).toBe("/api/v1/notifications?unread=false");
    const rows = wrapper.findAll("[data-testid=notifications] li");
    expect(rows.map((r) => r.attributes("data-unread"))).toEqual(["true", "true", "false"]);
    expect(rows[0].text()).toContain("Bo Colleague mentioned you on ticket #1002");
    expect(rows[0].text()).toContain("Unread");
    expect(rows[1].text()).toContain("Bo Colleague mentioned Billing on ticket #1001");
    expect(rows[0].get("a").attributes("href")).toBe("/tickets/12");

    await rows[0].findAll("button").find((b) => b.text() === "Mark as read")!.trigger("click");
    await flushPromises();
    expect(calls[1]).toEqual({ url: "/api/v1/notifications/read", method: "POST", body: { ids: [2] } });
    expect(wrapper.findAll("[data-testid=notifications] li").map((r) => r.attributes("data-unread"))).toEqual(["true", "false", "false"]);
  });

  it("a notification.created event brings the new one in at the top without a reload", async () => {
    pages.push({ items: [note(1, true)], next_cursor: null });
    const { wrapper } = await mountWith(NotificationsView, {});
    await flushPromises();
    pages.push({ items: [note(4, false), note(1, true)], next_cursor: null });
    realtime["apply"]({ seq: 900, type: "notification.created", data: { notification_id: 4, ticket_id: 14 }, at: "2026-01-01T10:00:00Z" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await flushPromises();
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/notifications?unread=false", "/api/v1/notifications?unread=false&limit=25"]);
    const rows = wrapper.findAll("[data-testid=notifications] li");
    expect(rows).toHaveLength(2);
    expect(rows[0].text()).toContain("#1004");
    // Read in another tab: the server tells this one.
    realtime["apply"]({ seq: 901, type: "notification.read", data: { ids: [4], marked: 1, unread_count: 0 }, at: "2026-01-01T10:01:00Z" });
    await flushPromises();
    expect(wrapper.findAll("[data-testid=notifications] li").map((r) => r.attributes("data-unread"))).toEqual(["false", "false"]);
  });

  it("marks all read up to the newest one shown", async () => {
    pages.push({ items: [note(8, false), note(6, false)], next_cursor: "c1" });
    const { wrapper } = await mountWith(NotificationsView, {});
    await flushPromises();
    await wrapper.findAll("button").find((b) => b.text() === "Mark all as read")!.trigger("click");
    await flushPromises();
    expect(calls[1].body).toEqual({ up_to_id: 8 });
    expect(wrapper.findAll("[data-testid=notifications] li").map((r) => r.attributes("data-unread"))).toEqual(["false", "false"]);
  });
});
