// Rows for the inbox's tests: a plausible TicketRow with only what a test cares about changed.
import type { TicketRow } from "./api";

export function makeRow(id: number, change: Partial<TicketRow> = {}): TicketRow {
  return {
    id,
    number: 100000 + id,
    subject: `Ticket ${id}`,
    status: "open",
    priority: "normal",
    channel: "email",
    tier: "normal",
    customer: { id: 1, name: "Li Na", tier: "normal" },
    department: { id: 7, name: "Front line" },
    assignee: null,
    tags: [],
    first_response_due_at: null,
    resolution_due_at: null,
    next_due_at: null,
    created_at: "2026-01-01T08:00:00+00:00",
    updated_at: "2026-01-01T08:00:00+00:00",
    last_message_at: null,
    version: 1,
    ...change,
  };
}
