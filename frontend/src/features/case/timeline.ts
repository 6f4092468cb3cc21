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

/** Both lists together, each entry once (the newer copy wins: a delivery status may have changed), in order. */
export function mergeItems(shown: TimelineItem[], incoming: TimelineItem[]): TimelineItem[] {
  const byKey = new Map<string, TimelineItem>();
  for (const item of shown) byKey.set(itemKey(item), item);
  for (const item of incoming) byKey.set(itemKey(item), item);
  return [...byKey.values()].sort(compareItems);
}

/** The newest customer-visible message's id: what the reply composer says it has seen. */
export function lastMessageId(items: TimelineItem[]): number | undefined {
  for (let i = items.length - 1; i >= 0; i -= 1) if (items[i].kind === "message") return items[i].id;
  return undefined;
}
