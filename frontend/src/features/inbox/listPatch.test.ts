import { describe, expect, it } from "vitest";

import { applyChecked, compareRows, releaseHeld, ticketOf, type SortKey } from "./listPatch";
import { makeRow } from "./testRows";

const ids = (rows: Array<{ id: number }>) => rows.map((row) => row.id);
const at = (minute: number) => `2026-01-01T09:${String(minute).padStart(2, "0")}:00+00:00`;

describe("compareRows: the server's orders (tickets/inbox.py SORTS)", () => {
  const rows = [
    makeRow(1, { priority: "low", next_due_at: at(1), created_at: at(5), updated_at: at(2) }),
    makeRow(2, { priority: "urgent", next_due_at: null, created_at: at(1), updated_at: at(9) }),
    makeRow(3, { priority: "urgent", next_due_at: at(30), created_at: at(1), updated_at: at(9) }),
    makeRow(4, { priority: "high", next_due_at: at(10), created_at: at(3), updated_at: at(4) }),
  ];
  const order = (sort: SortKey) => ids([...rows].sort(compareRows(sort)));

  it("priority: highest first, then the nearest due time (none last), then id", () => {
    expect(order("priority")).toEqual([3, 2, 4, 1]);
  });
  it("due: nearest first, no due time last", () => {
    expect(order("due")).toEqual([1, 4, 3, 2]);
  });
  it("created ascending and descending, ties by id the same way", () => {
    expect(order("created")).toEqual([2, 3, 4, 1]);
    expect(order("-created")).toEqual([1, 4, 3, 2]);
  });
  it("updated: most recent first", () => {
    expect(order("updated")).toEqual([3, 2, 4, 1]);
  });
});

describe("applyChecked: where a re-checked ticket goes", () => {
  const loaded = [makeRow(1, { priority: "urgent" }), makeRow(2, { priority: "high" }), makeRow(3, { priority: "low" })];
  const all = { sort: "priority" as SortKey, boundary: null, holdNew: false };

  it("inserts a new matching ticket at its sorted position", () => {
    const result = applyChecked({ rows: loaded, held: [] }, [9], [makeRow(9, { priority: "normal" })], all);
    expect(ids(result.rows)).toEqual([1, 2, 9, 3]);
    expect(result.inserted).toEqual([9]);
  });

  it("moves a changed row to its new place and takes its new values", () => {
    const result = applyChecked({ rows: loaded, held: [] }, [3], [makeRow(3, { priority: "urgent", subject: "Now urgent" })], all);
    expect(ids(result.rows)).toEqual([1, 3, 2]);
    expect(result.rows[1].subject).toBe("Now urgent");
    expect(result.updated).toEqual([3]);
  });

  it("removes a row the view no longer matches (absent from the answer)", () => {
    const result = applyChecked({ rows: loaded, held: [] }, [2, 3], [makeRow(3)], all);
    expect(ids(result.rows)).toEqual([1, 3]);
    expect(result.removed).toEqual([2]);
  });

  it("ignores rows in the answer that were not asked about, and leaves the others alone", () => {
    const result = applyChecked({ rows: loaded, held: [] }, [2], [makeRow(2, { priority: "high" }), makeRow(50)], all);
    expect(ids(result.rows)).toEqual([1, 2, 3]);
    expect(result.rows[0]).toBe(loaded[0]);
  });

  it("with more pages to load, leaves rows after the boundary to 'load more'", () => {
    const boundary = loaded[1]; // the cursor was taken at ticket 2 (high)
    const options = { sort: "priority" as SortKey, boundary, holdNew: false };
    const newLow = applyChecked({ rows: loaded.slice(0, 2), held: [] }, [9], [makeRow(9, { priority: "low" })], options);
    expect(ids(newLow.rows)).toEqual([1, 2]);
    const newUrgent = applyChecked({ rows: loaded.slice(0, 2), held: [] }, [9], [makeRow(9, { priority: "urgent" })], options);
    expect(ids(newUrgent.rows)).toEqual([1, 9, 2]);
    // A loaded row that drops below the boundary leaves; it comes back in its place with the next page.
    const demoted = applyChecked({ rows: loaded.slice(0, 2), held: [] }, [1], [makeRow(1, { priority: "low" })], options);
    expect(ids(demoted.rows)).toEqual([2]);
  });

  it("holds new tickets back while the user is scrolled, still updating shown rows", () => {
    const options = { ...all, holdNew: true };
    const result = applyChecked({ rows: loaded, held: [] }, [9, 3], [makeRow(9, { priority: "urgent" }), makeRow(3, { subject: "edited" })], options);
    expect(ids(result.rows)).toEqual([1, 2, 3]);
    expect(result.rows[2].subject).toBe("edited");
    expect(ids(result.held)).toEqual([9]);
    // A held ticket that stops matching disappears from the bar too.
    expect(applyChecked(result, [9], [], options).held).toEqual([]);
    // "Show" puts them in order.
    expect(ids(releaseHeld(result, "priority").rows)).toEqual([1, 9, 2, 3]);
  });
});

describe("ticketOf: which events touch the list", () => {
  it("takes the ticket of ticket, message, case and SLA events, and nothing else", () => {
    expect(ticketOf({ type: "ticket.created", data: { ticket_id: 5 } })).toBe(5);
    expect(ticketOf({ type: "message.created", data: { ticket_id: 6, message_id: 1 } })).toBe(6);
    expect(ticketOf({ type: "sla.warning", data: { ticket_id: 7 } })).toBe(7);
    expect(ticketOf({ type: "notification.created", data: { ticket_id: 8 } })).toBeNull();
    expect(ticketOf({ type: "ticket.updated", data: { ticket_id: "8" } })).toBeNull();
  });
});
