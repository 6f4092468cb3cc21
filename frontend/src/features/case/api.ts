// The case view's API calls and the shapes they return (tickets, case, timeline, collab, org).
import { http, type Page } from "@/api/http";

export interface Ref {
  id: number;
  name: string;
}

export interface Attachment {
  id: number;
  filename: string;
  media_type: string;
  size: number;
  download_url: string;
}

export interface TicketDetail {
  id: number;
  number: number;
  subject: string;
  status: string;
  priority: string;
  channel: string;
  tier: string;
  customer: Ref & { tier?: string };
  department: Ref;
  assignee: Ref | null;
  version: number;
  next_due_at: string | null;
  messages: Array<{ id: number; direction: string; channel: string; author_agent: Ref | null; created_at: string }>;
}

export interface Clock {
  kind: string;
  status: string;
  started_at: string;
  due_at: string | null;
  stopped_at: string | null;
  breached_at: string | null;
}

export interface ActionOption {
  action: string;
  name: string;
  target_step: string;
  required_fields: string[];
  needs_task: boolean;
  task_ids: string[];
}

export interface CaseState {
  ticket_id: number;
  version: number;
  workflow_name: string;
  step: string;
  step_name: string;
  finished: boolean;
  clocks: Clock[];
  actions: ActionOption[];
}

export interface Mention {
  kind: "agent" | "department";
  id: number;
  name: string;
}

/** One timeline entry; which fields are present depends on `kind`. */
export interface TimelineItem {
  kind: "message" | "note" | "workflow_step" | "invitation" | "sla" | "call";
  at: string;
  id: number;
  direction?: string;
  channel?: string;
  author?: Ref | null;
  body_text?: string;
  body_html?: string | null;
  delivery_status?: string;
  attachments?: Attachment[];
  mentions?: Mention[];
  action?: string;
  from_step?: string | null;
  to_step?: string | null;
  actor?: Ref | null;
  department?: Ref;
  note?: string | null;
  clock?: string;
  event?: string;
  due_at?: string | null;
  // calls
  status?: string;
  from?: string | null;
  to?: string | null;
  wait_seconds?: number | null;
  talk_seconds?: number | null;
  agent_id?: number | null;
  recording_url?: string | null;
  voicemail_url?: string | null;
}

export interface TimelinePage {
  items: TimelineItem[];
  next_cursor: string | null;
  prev_cursor: string | null;
  tail_cursor: string | null;
}

export interface Collision {
  newer_replies: Array<{ message_id: number; agent_id: number; name: string; created_at: string }>;
  typing: Array<{ agent_id: number; name: string }>;
}

export interface PostedMessage {
  id: number;
  collision: Collision | null;
}

export interface NewMessage {
  kind: "reply" | "note";
  body_text: string;
  seen_message_id?: number;
  if_no_newer_reply?: boolean;
}

export interface AgentSummary {
  id: number;
  name: string;
  email: string;
  role: string;
  is_active: boolean;
  department_ids: number[];
}

export interface Department {
  id: number;
  name: string;
  parent_id: number | null;
  is_active: boolean;
}

export interface Invitation {
  department_id: number;
  standing: boolean;
}

export const caseApi = {
  ticket: (id: number) => http.get<TicketDetail>(`/tickets/${id}`),
  case: (id: number) => http.get<CaseState>(`/tickets/${id}/case`),
  /** The newest page (`latest`), an earlier one (`before`) or what came after `cursor`. */
  timeline: (id: number, query: { latest?: boolean; before?: string; cursor?: string; limit?: number }) =>
    http.get<TimelinePage>(`/tickets/${id}/timeline`, query),
  post: (id: number, body: NewMessage) => http.post<PostedMessage>(`/tickets/${id}/messages`, body),
  act: (id: number, body: { action: string; version: number; task_id?: string | null; inputs: Record<string, unknown> }) =>
    http.post<CaseState>(`/tickets/${id}/case/actions`, body),
  agents: (q: string) => http.get<Page<AgentSummary>>("/agents", { q: q || undefined, is_active: true, limit: 20 }),
  departments: () => http.get<Department[]>("/departments", { is_active: true }),
  invitations: (id: number) => http.get<Invitation[]>(`/tickets/${id}/invitations`),
};

export interface CustomerIdentity {
  kind: string;
  value: string;
  display_value: string | null;
}

export const customerIdentities = (customerId: number) =>
  http.get<{ identities: CustomerIdentity[] }>(`/customers/${customerId}`).then((c) => c.identities ?? []);
