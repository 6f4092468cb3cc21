// The inbox's calls: the ticket list (GET /tickets), queue sizes, departments, and "assign to me".
import { http, type Page, type Query } from "@/api/http";

export type TicketStatus = "new" | "open" | "pending" | "on_hold" | "solved" | "closed";
export type Priority = "low" | "normal" | "high" | "urgent";
export type Channel = "phone" | "sms" | "email" | "wechat" | "whatsapp" | "messenger" | "web" | "api";
export type Tier = "normal" | "silver" | "gold" | "diamond" | "vip";

export interface Ref {
  id: number;
  name: string;
}

/** One row of GET /tickets (schemas.TicketListItem). */
export interface TicketRow {
  id: number;
  number: number;
  subject: string;
  status: TicketStatus;
  priority: Priority;
  channel: Channel;
  tier: Tier;
  customer: Ref & { tier: Tier };
  department: Ref;
  assignee: Ref | null;
  tags: string[];
  first_response_due_at: string | null;
  resolution_due_at: string | null;
  next_due_at: string | null;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
  version: number;
}

export interface Department {
  id: number;
  name: string;
  kind: "centre" | "department" | "group";
  parent_id: number | null;
  is_active: boolean;
}

export const inboxApi = {
  list: (query: Query, signal?: AbortSignal) => http.get<Page<TicketRow>>("/tickets", query, signal),
  departments: () => http.get<Department[]>("/departments"),
  /** Only total_waiting is used: a count query, cheap next to counting every view. */
  queueSize: (departmentId: number) =>
    http.get<{ total_waiting: number }>(`/departments/${departmentId}/queue`, { limit: 1 }).then((page) => page.total_waiting),
  assign: (ticket: Pick<TicketRow, "id" | "version">, agentId: number) =>
    http.patch<TicketRow>(`/tickets/${ticket.id}`, { version: ticket.version, assignee_id: agentId }),
};
