// What the dashboard shows for a snapshot: pure functions, so the figures are tested without a socket.
import type { Presence } from "@/api/types";

import type { AgentFigures, DepartmentFigures, NearingClock, SlaReportRow, Snapshot } from "./api";

export interface QueueRow {
  departmentId: number;
  name: string;
  waiting: number;
  oldestSince: string | null;
  nearing: number;
  online: number;
}

export interface RiskEntry extends NearingClock {
  departmentName: string;
}

export interface DashboardModel {
  queues: QueueRow[];
  agents: AgentFigures[];
  risks: RiskEntry[];
  totals: Snapshot["totals"];
}

const PRESENCE_ORDER: Record<Presence, number> = { online: 0, away: 1, offline: 2 };

/** Longest-waiting queues first: they are the ones a supervisor acts on. */
export function queueRows(departments: DepartmentFigures[]): QueueRow[] {
  return departments
    .map((d) => ({
      departmentId: d.department_id,
      name: d.name,
      waiting: d.waiting,
      oldestSince: d.oldest_waiting_since,
      nearing: d.nearing_breach,
      online: d.agents.online,
    }))
    .sort((a, b) => {
      if (a.oldestSince && b.oldestSince) return Date.parse(a.oldestSince) - Date.parse(b.oldestSince);
      if (a.oldestSince || b.oldestSince) return a.oldestSince ? -1 : 1;
      return a.name.localeCompare(b.name);
    });
}

/** Online first, then the most loaded (relative to capacity), then by name. */
export function sortAgents(agents: AgentFigures[]): AgentFigures[] {
  const share = (a: AgentFigures) => (a.capacity > 0 ? a.load / a.capacity : a.load);
  return [...agents].sort(
    (a, b) => PRESENCE_ORDER[a.presence] - PRESENCE_ORDER[b.presence] || share(b) - share(a) || a.name.localeCompare(b.name),
  );
}

/** The nearest due first; ties by ticket number so the list does not jump between snapshots. */
export function riskList(clocks: NearingClock[], departments: DepartmentFigures[]): RiskEntry[] {
  const names = new Map(departments.map((d) => [d.department_id, d.name]));
  return clocks
    .map((c) => ({ ...c, departmentName: names.get(c.department_id) ?? "" }))
    .sort((a, b) => Date.parse(a.due_at) - Date.parse(b.due_at) || a.number - b.number || a.clock.localeCompare(b.clock));
}

export function dashboard(snapshot: Snapshot): DashboardModel {
  return {
    queues: queueRows(snapshot.departments),
    agents: sortAgents(snapshot.agents),
    risks: riskList(snapshot.nearing_breach, snapshot.departments),
    totals: snapshot.totals,
  };
}

/** A newer snapshot replaces the centre's; an older one (reordered delivery) is ignored. */
export function mergeSnapshot(current: Snapshot | undefined, incoming: Snapshot): Snapshot {
  if (current && Date.parse(current.at) > Date.parse(incoming.at)) return current;
  return incoming;
}

/** The report rows of the centre's departments, the worst met % first (no stopped clocks last). */
export function reportRows(rows: SlaReportRow[], departmentIds: Set<number>): SlaReportRow[] {
  return rows
    .filter((r) => r.id !== null && departmentIds.has(r.id))
    .sort((a, b) => (a.resolution_met_percent ?? 101) - (b.resolution_met_percent ?? 101) || b.breached - a.breached);
}

/** Today's hours up to now, as [start, end) windows in local time, for the hourly chart. */
export function hoursToday(now: Date): Array<{ hour: number; from: Date; to: Date }> {
  const start = new Date(now);
  start.setHours(0, 0, 0, 0);
  const out = [];
  for (let hour = 0; hour <= now.getHours(); hour += 1) {
    const from = new Date(start.getTime() + hour * 3600_000);
    out.push({ hour, from, to: new Date(from.getTime() + 3600_000) });
  }
  return out;
}

export interface HourlySeries {
  hours: string[];
  created: number[];
  breached: number[];
}

/** Per hour: tickets created in the centre's departments, and how many of those breached. */
export function hourlySeries(perHour: Array<{ hour: number; rows: SlaReportRow[] }>, departmentIds: Set<number>): HourlySeries {
  const sorted = [...perHour].sort((a, b) => a.hour - b.hour);
  const mine = (rows: SlaReportRow[]) => rows.filter((r) => r.id !== null && departmentIds.has(r.id));
  return {
    hours: sorted.map((h) => `${String(h.hour).padStart(2, "0")}:00`),
    created: sorted.map((h) => mine(h.rows).reduce((sum, r) => sum + r.tickets, 0)),
    breached: sorted.map((h) => mine(h.rows).reduce((sum, r) => sum + r.breached, 0)),
  };
}
