// Patching a loaded inbox page in place from live events, as a pure function of the list state.
//
// An event only says which ticket changed. The view re-asks the API for those tickets under its
// own filters (GET /tickets?id=…); what comes back still belongs in the view, what does not must
// go. Where a row goes is the server's own order (tickets/inbox.py SORTS), copied here as a
// comparator. With more pages still to load, the list ends where the cursor was taken (the
// boundary: the last row of the last page as it was then, since the cursor holds those values): a
// row sorting after it will come with "load more", so it is not shown yet.
import type { OutboxEvent } from "@/realtime/socket";

import type { Priority, TicketRow } from "./api";

export type SortKey = "priority" | "due" | "updated" | "created" | "-created";

const RANK: Record<Priority, number> = { low: 1, normal: 2, high: 3, urgent: 4 };
const FAR_FUTURE = Number.MAX_SAFE_INTEGER;

const time = (iso: string | null): number => (iso ? Date.parse(iso) : FAR_FUTURE);
const byId = (a: TicketRow, b: TicketRow): number => a.id - b.id;

/** The server's order for each sort key; every order ends in the id, so it is total. */
export function compareRows(sort: SortKey): (a: TicketRow, b: TicketRow) => number {
  switch (sort) {
    case "priority":
      return (a, b) => RANK[b.priority] - RANK[a.priority] || time(a.next_due_at) - time(b.next_due_at) || byId(a, b);
    case "due":
      return (a, b) => time(a.next_due_at) - time(b.next_due_at) || byId(a, b);
    case "created":
      return (a, b) => time(a.created_at) - time(b.created_at) || byId(a, b);
    case "-created":
      return (a, b) => time(b.created_at) - time(a.created_at) || byId(b, a);
    case "updated":
      return (a, b) => time(b.updated_at) - time(a.updated_at) || byId(b, a);
  }
}

export interface ListState {
  rows: TicketRow[];
  /** New tickets kept back while the user is scrolled down ("N new — show"). */
  held: TicketRow[];
}

export interface PatchOptions {
  sort: SortKey;
  /** The last row of the last page loaded, when more pages exist; null when everything is loaded. */
  boundary: TicketRow | null;
  /** Keep new rows back instead of inserting them (the user scrolled away from the top). */
  holdNew: boolean;
}

export interface PatchResult extends ListState {
  inserted: number[];
  updated: number[];
  removed: number[];
}

/**
 * Apply a re-check: `checked` are the ticket ids asked about, `fresh` what the API answered for
 * them under the view's filters (a subset of `checked`).
 */
export function applyChecked(state: ListState, checked: Iterable<number>, fresh: TicketRow[], options: PatchOptions): PatchResult {
  const asked = new Set(checked);
  const answer = new Map(fresh.filter((row) => asked.has(row.id)).map((row) => [row.id, row]));
  const compare = compareRows(options.sort);
  const fits = (row: TicketRow): boolean => options.boundary === null || compare(row, options.boundary) <= 0;
  const inserted: number[] = [];
  const updated: number[] = [];
  const removed: number[] = [];

  const rows: TicketRow[] = [];
  for (const row of state.rows) {
    if (!asked.has(row.id)) rows.push(row);
    else if (answer.has(row.id) && fits(answer.get(row.id) as TicketRow)) {
      rows.push(answer.get(row.id) as TicketRow);
      updated.push(row.id);
    } else removed.push(row.id);
  }
  const shown = new Set(state.rows.map((row) => row.id));
  const held = state.held.filter((row) => !asked.has(row.id));
  for (const row of answer.values()) {
    if (shown.has(row.id) || !fits(row)) continue;
    if (options.holdNew) held.push(row);
    else {
      rows.push(row);
      inserted.push(row.id);
    }
  }
  rows.sort(compare);
  held.sort(compare);
  return { rows, held, inserted, updated, removed };
}

/** "Show" on the new-tickets bar: the held rows join the list in order. */
export function releaseHeld(state: ListState, sort: SortKey): ListState {
  const shown = new Set(state.rows.map((row) => row.id));
  return { rows: [...state.rows, ...state.held.filter((row) => !shown.has(row.id))].sort(compareRows(sort)), held: [] };
}

/** Outbox events that can change which tickets a view lists or how a row looks. */
export const LIVE_EVENTS = [
  "ticket.created",
  "ticket.updated",
  "ticket.assigned",
  "ticket.transferred",
  "message.created",
  "case.step",
  "sla.warning",
  "sla.breached",
] as const;

/** The ticket an event is about, if it is one the list cares for. */
export function ticketOf(event: Pick<OutboxEvent, "type" | "data">): number | null {
  if (!(LIVE_EVENTS as readonly string[]).includes(event.type)) return null;
  const id = event.data.ticket_id;
  return typeof id === "number" && Number.isInteger(id) ? id : null;
}
