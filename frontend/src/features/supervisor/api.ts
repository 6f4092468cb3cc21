// The supervisor dashboard's API: the live snapshot's shape (pushed over Socket.IO, see
// service_hub/realtime/supervisor_stream.py), the SLA report and the transfer used to reassign.
import { http } from "@/api/http";
import type { Presence } from "@/api/types";

export interface DepartmentFigures {
  department_id: number;
  name: string;
  waiting: number;
  oldest_waiting_since: string | null;
  agents: Record<Presence, number>;
  nearing_breach: number;
}

export interface AgentFigures {
  agent_id: number;
  name: string;
  presence: Presence;
  load: number;
  capacity: number;
  department_ids: number[];
}

export interface NearingClock {
  ticket_id: number;
  number: number;
  department_id: number;
  clock: string;
  due_at: string;
}

export interface Snapshot {
  centre_id: number;
  name: string;
  departments: DepartmentFigures[];
  agents: AgentFigures[];
  nearing_breach: NearingClock[];
  totals: { waiting: number; oldest_waiting_since: string | null; nearing_breach: number; agents: Record<Presence, number> };
  at: string;
}

export interface SubscribeAck {
  ok: boolean;
  snapshots?: Snapshot[];
  code?: string;
  detail?: string;
}

export interface SlaReportRow {
  id: number | null;
  name: string | null;
  tickets: number;
  open: number;
  breached: number;
  resolution_met_percent: number | null;
  avg_first_response_seconds: number | null;
  avg_resolution_seconds: number | null;
}

export interface TicketRef {
  id: number;
  number: number;
  subject: string;
  version: number;
  department: { id: number; name: string };
  assignee: { id: number; name: string } | null;
}

export interface TransferBody {
  version: number;
  reason: string;
  assignee_id?: number;
  department_id?: number;
}

export const supervisorApi = {
  slaReport: (from: Date, to: Date, signal?: AbortSignal) =>
    http.get<SlaReportRow[]>("/reports/sla", { from: from.toISOString(), to: to.toISOString(), group_by: "department" }, signal),
  ticket: (id: number) => http.get<TicketRef>(`/tickets/${id}`),
  transfer: (id: number, body: TransferBody) => http.post<TicketRef>(`/tickets/${id}/transfer`, body),
};
