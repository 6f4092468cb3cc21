// The timeline as the view holds it: pages loaded backwards from the end, plus entries arriving
// live. The server's order is (at, source rank, id); entries of one source share an id space, so
// (source, id) names an entry wherever it came from, and a live fetch may repeat one already shown.
import type { TimelineItem } from "./api";

const RANK: Record<TimelineItem["kind"], number> = { message: 0, note: 0, workflow_step: 1, invitation: 1, sla: 2, call: 3 };

export function itemKey(item: TimelineItem): string {
  return `${RANK[item.kind]}:${item.id}`;
}

export function compareItems(a: TimelineItem, b: TimelineItem): number {
  return Date.parse(a.at) - Date.parse(b.at) || RANK[a.kind] - RANK[b.kind] || a.id - b.id;
}

// A delivery only moves forward (service_hub/inbound/outbound.py _move: queued, sent, delivered,
// read; failed ends it), so of two reports on one message the further one is the newer news.
const DELIVERY_RANK: Record<string, number> = { none: 0, queued: 1, sent: 2, delivered: 3, read: 4, failed: 5 };

export function furtherDelivery(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (DELIVERY_RANK[b] ?? 0) > (DELIVERY_RANK[a] ?? 0) ? b : a;
}

/**
 * Both lists together, each entry once (the newer copy wins), in order. A copy fetched before a
 * delivery report arrived must not take the report back, so a message keeps its further status.
 */
export function mergeItems(shown: TimelineItem[], incoming: TimelineItem[]): TimelineItem[] {
  const byKey = new Map<string, TimelineItem>();
  for (const item of shown) byKey.set(itemKey(item), item);
  for (const item of incoming) {
    const old = byKey.get(itemKey(item));
    const status = item.kind === "message" && old ? furtherDelivery(old.delivery_status, item.delivery_status) : item.delivery_status;
    byKey.set(itemKey(item), status === item.delivery_status ? item : { ...item, delivery_status: status });
  }
  return [...byKey.values()].sort(compareItems);
}

/** Delivery reports that arrived before their message was shown (message id -> status), applied. */
export function withDeliveries(items: TimelineItem[], reports: ReadonlyMap<number, string>): TimelineItem[] {
  if (!reports.size) return items;
  return items.map((item) => {
    if (item.kind !== "message" || !reports.has(item.id)) return item;
    const status = furtherDelivery(item.delivery_status, reports.get(item.id));
    return status === item.delivery_status ? item : { ...item, delivery_status: status };
  });
}

/** The newest customer-visible message's id: what the reply composer says it has seen. */
export function lastMessageId(items: TimelineItem[]): number | undefined {
  for (let i = items.length - 1; i >= 0; i -= 1) if (items[i].kind === "message") return items[i].id;
  return undefined;
}
