// Customer 360's calls and shapes: the customer with identities, the value explanation, tickets.
import { http, type Page } from "@/api/http";

export type IdentityKind = "phone" | "email" | "wechat" | "whatsapp" | "messenger" | "external";

export interface Identity {
  id: number;
  kind: IdentityKind;
  account: string;
  value: string;
  display_value: string | null;
  verified: boolean;
  created_at: string;
}

export interface CustomerDetail {
  id: number;
  customer_number: string | null;
  name: string;
  language: string | null;
  tier: string;
  merged_into_id: number | null;
  identities: Identity[];
  notes: string | null;
  created_at: string;
}

/** A code with its Chinese and English label, as service_hub/value/explanation.py sends it. */
export interface Label {
  code: string;
  zh: string;
  en: string;
}

export interface ChurnReason {
  code: string;
  label: string;
  detail: string;
  points: number;
  figures: Record<string, unknown>;
}

export interface Indicator {
  metric: string;
  value: number | null;
  cap: number;
  score: number;
  weight: number;
  contribution: number;
}

export interface Criterion {
  key: string;
  weight: number;
  contribution: number;
  indicators: Indicator[];
}

export interface TierChange {
  from_tier: string | null;
  to_tier: string;
  value_index: number | null;
  rule: string;
  run_id: number | null;
  changed_at: string;
}

interface ValueBase {
  customer_id: number;
  name: string;
  merged_into_id: number | null;
  tier: string;
  tier_rule: string | null;
  tier_history: TierChange[];
}

export interface NotScored extends ValueBase {
  scored: false;
}

export interface Scored extends ValueBase {
  scored: true;
  run_id: number;
  model_version: number | null;
  as_of: string;
  computed_at: string;
  rfm: {
    window_days: number;
    recency_days: number | null;
    frequency: number;
    monetary: number;
    r_score: number | null;
    f_score: number | null;
    m_score: number | null;
    first_purchase_on: string | null;
    last_purchase_on: string | null;
    lifetime_purchases: number;
  };
  segment8: Label | null;
  segment10: Label | null;
  clv: { simple: number; contract: number | null; avg_arpu: number | null };
  lifecycle: Label | null;
  churn: { risk: number; reasons: ChurnReason[] };
  value_index: number;
  index: { index: number; criteria: Criterion[] };
}

export type CustomerValue = Scored | NotScored;

export interface CustomerTicket {
  id: number;
  number: number;
  subject: string;
  status: string;
  priority: string;
  channel: string;
  department: { id: number; name: string };
  assignee: { id: number; name: string } | null;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
}

export const customerApi = {
  get: (id: number, signal?: AbortSignal) => http.get<CustomerDetail>(`/customers/${id}`, undefined, signal),
  value: (id: number, signal?: AbortSignal) => http.get<CustomerValue>(`/value/customers/${id}`, undefined, signal),
  /** Every ticket of the customer I may see, across channels, latest activity first. */
  tickets: (id: number, cursor: string | null, signal?: AbortSignal) =>
    http.get<Page<CustomerTicket>>("/tickets", { customer_id: id, sort: "updated", limit: 20, cursor }, signal),
};
