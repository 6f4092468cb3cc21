// A centre's snapshot as the supervisor stream sends it, for tests.
import type { Snapshot } from "./api";

const agents = (online: number, away = 0, offline = 0) => ({ online, away, offline });

export function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    centre_id: 1,
    name: "Beijing Centre",
    departments: [
      { department_id: 2, name: "Front line", waiting: 3, oldest_waiting_since: "2026-05-01T08:00:00+00:00", agents: agents(2), nearing_breach: 1 },
      { department_id: 3, name: "Billing back office", waiting: 0, oldest_waiting_since: null, agents: agents(0, 0, 1), nearing_breach: 0 },
      { department_id: 4, name: "Accounts", waiting: 1, oldest_waiting_since: "2026-05-01T07:30:00+00:00", agents: agents(1), nearing_breach: 1 },
    ],
    agents: [
      { agent_id: 10, name: "Bo", presence: "online", load: 1, capacity: 5, department_ids: [2] },
      { agent_id: 11, name: "Cy", presence: "offline", load: 0, capacity: 5, department_ids: [3] },
      { agent_id: 12, name: "Ada", presence: "online", load: 5, capacity: 5, department_ids: [2] },
      { agent_id: 13, name: "Di", presence: "away", load: 0, capacity: 5, department_ids: [4] },
    ],
    nearing_breach: [
      { ticket_id: 7, number: 1007, department_id: 2, clock: "resolution", due_at: "2026-05-01T09:30:00+00:00" },
      { ticket_id: 5, number: 1005, department_id: 4, clock: "first_response", due_at: "2026-05-01T09:10:00+00:00" },
      { ticket_id: 6, number: 1006, department_id: 2, clock: "first_response", due_at: "2026-05-01T09:30:00+00:00" },
    ],
    totals: { waiting: 4, oldest_waiting_since: "2026-05-01T07:30:00+00:00", nearing_breach: 2, agents: agents(2, 1, 1) },
    at: "2026-05-01T09:00:00+00:00",
    ...overrides,
  };
}
