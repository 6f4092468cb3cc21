// The list's rules in one pure place: unread first (each group newest first), live additions
// merged by id, read marks applied from this tab or another one.
import type { Notification } from "./api";

/** Unread before read; within each, newest (highest id) first. */
export function ordered(items: Notification[]): Notification[] {
  return [...items].sort((a, b) => Number(a.read_at !== null) - Number(b.read_at !== null) || b.id - a.id);
}

/** Adds fresh items (a live page) to the loaded ones; an id already there takes the fresh copy. */
export function merge(loaded: Notification[], fresh: Notification[]): Notification[] {
  const byId = new Map(loaded.map((n) => [n.id, n]));
  for (const item of fresh) byId.set(item.id, item);
  return ordered([...byId.values()]);
}

/** The "notification.read" event: these ids, or every one up to an id. */
export function markRead(items: Notification[], read: { ids?: number[]; up_to_id?: number }, at: string): Notification[] {
  const ids = new Set(read.ids ?? []);
  const hit = (n: Notification) => ids.has(n.id) || (read.up_to_id !== undefined && n.id <= read.up_to_id);
  return ordered(items.map((n) => (n.read_at === null && hit(n) ? { ...n, read_at: at } : n)));
}
