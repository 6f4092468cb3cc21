import { afterEach, describe, expect, it, vi } from "vitest";
import { ref } from "vue";

import type { TimelineItem } from "./api";
import { fakeFetch } from "./testing";
import { furtherDelivery, lastMessageId, mergeItems } from "./timeline";
import { useTimeline } from "./useTimeline";

const at = (minute: number) => new Date(Date.UTC(2026, 2, 2, 9, minute)).toISOString();
const msg = (id: number, minute: number, kind: TimelineItem["kind"] = "message"): TimelineItem => ({ kind, id, at: at(minute) });

describe("merging timeline entries", () => {
  it("orders by time, then source (message, step, SLA, call), then id, like the server", () => {
    const merged = mergeItems([msg(5, 10, "sla"), msg(9, 10, "message")], [msg(2, 10, "workflow_step"), msg(3, 10, "note"), msg(1, 3, "call")]);
    expect(merged.map((i) => `${i.kind}:${i.id}`)).toEqual(["call:1", "note:3", "message:9", "workflow_step:2", "sla:5"]);
  });

  it("places an earlier page above and live entries below, each once, the newer copy winning", () => {
    const shown = [msg(10, 20), msg(11, 21)];
    const earlier = [msg(8, 5), msg(9, 6)];
    const live = [{ ...msg(11, 21), delivery_status: "delivered" }, msg(12, 22, "note")];
    const merged = mergeItems(mergeItems(shown, earlier), live);
    expect(merged.map((i) => i.id)).toEqual([8, 9, 10, 11, 12]);
    expect(merged.find((i) => i.id === 11)?.delivery_status).toBe("delivered");
    // A note and a message never share an id (one table), but a step may share a message's id.
    expect(mergeItems([msg(7, 1)], [msg(7, 1, "workflow_step")])).toHaveLength(2);
  });

  it("never takes a delivery report back: a copy fetched before the report keeps the further status", () => {
    const sent = { ...msg(11, 21), delivery_status: "sent" };
    const stale = { ...msg(11, 21), delivery_status: "queued", body_text: "edited" };
    const merged = mergeItems([sent], [stale]);
    expect(merged[0]).toMatchObject({ delivery_status: "sent", body_text: "edited" });
    expect(mergeItems([sent], [{ ...sent, delivery_status: "delivered" }])[0].delivery_status).toBe("delivered");
    expect(furtherDelivery("sent", "failed")).toBe("failed");
    expect(furtherDelivery("read", "delivered")).toBe("read");
    expect(furtherDelivery(undefined, "queued")).toBe("queued");
  });

  it("says the newest customer-visible message as the one seen, skipping notes and events", () => {
    expect(lastMessageId([msg(1, 1), msg(2, 2), msg(3, 3, "note"), msg(4, 4, "sla")])).toBe(2);
    expect(lastMessageId([msg(3, 3, "note")])).toBeUndefined();
  });
});

describe("useTimeline", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("opens at the newest page, loads earlier before it, and fetches live entries after its tail", async () => {
    let tailAsked = 0;
    const calls = fakeFetch({
      "GET /api/v1/tickets/7/timeline": (call) => {
        const q = new URL(call.url, "http://x").searchParams;
        if (q.get("latest")) return { body: { items: [msg(10, 20), msg(11, 21)], next_cursor: null, prev_cursor: "P1", tail_cursor: "T1" } };
        if (q.get("before") === "P1") return { body: { items: [msg(9, 5)], next_cursor: null, prev_cursor: null, tail_cursor: "X" } };
        tailAsked += 1;
        // The tail is asked from T1; the answer has a second page that must be followed.
        if (q.get("cursor") === "T1") return { body: { items: [msg(12, 22, "note")], next_cursor: "N1", prev_cursor: null, tail_cursor: "T2" } };
        return { body: { items: [msg(4, 22, "workflow_step")], next_cursor: null, prev_cursor: null, tail_cursor: "T3" } };
      },
    });
    const timeline = useTimeline(ref(7));
    await timeline.load();
    expect(timeline.items.value.map((i) => i.id)).toEqual([10, 11]);
    expect(timeline.prevCursor.value).toBe("P1");

    await timeline.loadEarlier();
    expect(timeline.items.value.map((i) => i.id)).toEqual([9, 10, 11]);
    expect(timeline.prevCursor.value).toBeNull();

    await timeline.refreshTail();
    expect(timeline.items.value.map((i) => `${i.kind}:${i.id}`)).toEqual(["message:9", "message:10", "message:11", "note:12", "workflow_step:4"]);
    expect(tailAsked).toBe(2);
    const tailUrls = calls.map((c) => c.url).filter((u) => u.includes("cursor="));
    expect(tailUrls).toEqual(["/api/v1/tickets/7/timeline?cursor=T1&limit=30", "/api/v1/tickets/7/timeline?cursor=N1&limit=30"]);

    // The next live fetch starts from the last tail, not the first.
    await timeline.refreshTail();
    expect(calls.at(-1)?.url).toContain("cursor=T3");
  });

  it("keeps a delivery report that arrives before its message is shown, and applies it when the message comes", async () => {
    let tail = 0;
    fakeFetch({
      "GET /api/v1/tickets/7/timeline": (call) => {
        const q = new URL(call.url, "http://x").searchParams;
        if (q.get("latest")) return { body: { items: [msg(10, 20)], next_cursor: null, prev_cursor: null, tail_cursor: "T1" } };
        tail += 1;
        // The reply as read before the provider answered: still queued.
        const items = tail === 1 ? [{ ...msg(13, 21), direction: "outbound", delivery_status: "queued" }] : [];
        return { body: { items, next_cursor: null, prev_cursor: null, tail_cursor: "T2" } };
      },
    });
    const timeline = useTimeline(ref(7));
    await timeline.load();
    timeline.setDelivery(13, "sent"); // the report overtook the fetch of its message
    await timeline.refreshTail();
    expect(timeline.items.value.find((i) => i.id === 13)?.delivery_status).toBe("sent");
    timeline.setDelivery(13, "delivered");
    expect(timeline.items.value.find((i) => i.id === 13)?.delivery_status).toBe("delivered");
  });

  it("merges the newest page when an announced message is dated before the tail", async () => {
    let latest = 0;
    fakeFetch({
      "GET /api/v1/tickets/7/timeline": (call) => {
        const q = new URL(call.url, "http://x").searchParams;
        if (q.get("latest")) {
          latest += 1;
          const items = latest === 1 ? [msg(10, 20)] : [msg(13, 19), msg(10, 20)];
          return { body: { items, next_cursor: null, prev_cursor: null, tail_cursor: "T1" } };
        }
        return { body: { items: [], next_cursor: null, prev_cursor: null, tail_cursor: "T1" } };
      },
    });
    const timeline = useTimeline(ref(7));
    await timeline.load();
    await timeline.ensureShown(["message"], 13);
    expect(timeline.items.value.map((i) => i.id)).toEqual([13, 10]);
  });
});
