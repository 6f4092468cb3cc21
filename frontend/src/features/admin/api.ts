// The administration API calls and their shapes (service_hub/org, inbound, casework, value).
import { http, type Page } from "@/api/http";
import type { Role } from "@/api/types";

// --- organisation ------------------------------------------------------------------------------

export type DepartmentKind = "centre" | "department" | "group";

export interface Department {
  id: number;
  code: string;
  name: string;
  kind: DepartmentKind;
  parent_id: number | null;
  functions: string[];
  is_active: boolean;
}

export interface DepartmentInput {
  code: string;
  name: string;
  kind?: DepartmentKind;
  parent_id: number | null;
  functions: string[];
  is_active: boolean;
}

export interface Agent {
  id: number;
  email: string;
  name: string;
  role: Role;
  presence: string;
  is_active: boolean;
  capacity: number;
  senior: boolean;
  skills: string[];
  languages: string[];
  department_ids: number[];
  memberships: Array<{ department_id: number; department_name: string; is_lead: boolean }>;
}

export interface AgentInput {
  email: string;
  name: string;
  role: Role;
  password?: string;
  department_ids: number[];
  skills: string[];
  languages: string[];
  capacity: number;
  senior: boolean;
  is_active?: boolean;
}

export const orgApi = {
  departments: () => http.get<Department[]>("/departments"),
  createDepartment: (body: DepartmentInput) => http.post<Department>("/departments", body),
  updateDepartment: (id: number, body: Partial<DepartmentInput>) => http.patch<Department>(`/departments/${id}`, body),
  agents: (query: { q?: string; cursor?: string | null; is_active?: boolean }) => http.get<Page<Agent>>("/agents", { limit: 50, ...query }),
  createAgent: (body: AgentInput) => http.post<Agent>("/agents", body),
  updateAgent: (id: number, body: Partial<AgentInput>) => http.patch<Agent>(`/agents/${id}`, body),
};

// --- channel accounts --------------------------------------------------------------------------

export interface ChannelAccount {
  id: number;
  kind: string;
  name: string;
  slug: string;
  webhook_urls: Record<string, string>;
  settings: Record<string, string>;
  credentials_set: string[];
  default_department_id: number;
  is_active: boolean;
  updated_at: string;
}

export interface ChannelAccountInput {
  kind?: string;
  name: string;
  default_department_id: number;
  credentials: Record<string, string>;
  settings: Record<string, string>;
  is_active?: boolean;
}

export interface TestResult {
  delivery_id: number;
  status: string;
  provider_message_id: string | null;
  error: string | null;
  error_code: string | null;
}

export interface DeadLetter {
  id: number;
  account_id: number;
  kind: string;
  provider_message_id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  received_at: string;
}

export const channelApi = {
  list: () => http.get<ChannelAccount[]>("/channel-accounts"),
  create: (body: ChannelAccountInput) => http.post<ChannelAccount>("/channel-accounts", body),
  update: (id: number, body: Partial<ChannelAccountInput>) => http.patch<ChannelAccount>(`/channel-accounts/${id}`, body),
  testMessage: (id: number, to: string, text: string) => http.post<TestResult>(`/channel-accounts/${id}/test-message`, { to, text }),
  deadLetters: () => http.get<DeadLetter[]>("/inbound/dead", { limit: 50 }),
  replay: (id: number) => http.post<DeadLetter>(`/inbound/${id}/replay`),
};

// --- routing rules -----------------------------------------------------------------------------

export interface Conditions {
  channels?: string[];
  accounts?: string[];
  categories?: string[];
  keywords_any?: string[];
  keywords_all?: string[];
  languages?: string[];
  tiers?: string[];
}

export interface RuleOutcome {
  workflow: string;
  department?: number | string | null;
  department_function?: string | null;
  priority?: string;
  tags?: string[];
}

export interface RoutingRule {
  id: number;
  name: string;
  position: number;
  enabled: boolean;
  conditions: Conditions;
  outcome: RuleOutcome;
}

export interface RoutingRuleInput {
  name: string;
  enabled: boolean;
  conditions: Conditions | null;
  outcome: RuleOutcome;
}

export interface DryRunInput {
  channel: string;
  subject?: string;
  body?: string;
  category?: string;
  language?: string;
  tier?: string;
  account?: string;
  centre_id?: number;
}

export interface DryRunResult {
  rule: { id: number | null; name: string; position: number | null };
  builtin_default: boolean;
  outcome: { workflow: string; department: { id: number; code: string; name: string }; priority: string; tags: string[] };
  explanation: string[];
  evaluations: Array<{ rule: { id: number | null; name: string }; status: string; reasons: string[] }>;
}

export const routingApi = {
  list: () => http.get<RoutingRule[]>("/routing-rules"),
  create: (body: RoutingRuleInput) => http.post<RoutingRule>("/routing-rules", body),
  update: (id: number, body: Partial<RoutingRuleInput>) => http.patch<RoutingRule>(`/routing-rules/${id}`, body),
  remove: (id: number) => http.delete<void>(`/routing-rules/${id}`),
  reorder: (ids: number[]) => http.post<RoutingRule[]>("/routing-rules/reorder", { ids }),
  dryRun: (body: DryRunInput) => http.post<DryRunResult>("/routing-rules/dry-run", body),
};

// --- SLA ---------------------------------------------------------------------------------------

export interface SlaPolicy {
  id: number;
  name: string;
  position: number;
  tier: string | null;
  priority: string | null;
  channel: string | null;
  category: string | null;
  first_response_seconds: number | null;
  next_response_seconds: number | null;
  resolution_seconds: number | null;
  calendar_key: string;
  warning_share: number;
  supervise_after_seconds: number;
  is_active: boolean;
  is_default: boolean;
}

export type SlaPolicyInput = Omit<SlaPolicy, "id" | "position" | "is_default">;

export interface BusinessCalendar {
  key: string;
  name: string;
  timezone: string;
  /** weekday "0" (Monday) .. "6" -> [["09:00", "18:00"], ...] */
  hours: Record<string, string[][]>;
  china_holidays: boolean;
  closures: string[][];
  policies: string[];
}

export interface SlaPreviewResult {
  policy: SlaPolicy | null;
  targets: Array<{ clock: string; seconds: number; due_at: string | null }>;
}

export interface DueResult {
  calendar_key: string;
  start: string;
  counting_from: string;
  seconds: number;
  due_at: string;
  business_seconds: number;
  elapsed_seconds: number;
}

export const slaApi = {
  policies: () => http.get<SlaPolicy[]>("/sla/policies"),
  createPolicy: (body: SlaPolicyInput) => http.post<SlaPolicy>("/sla/policies", body),
  updatePolicy: (id: number, body: Partial<SlaPolicyInput>) => http.patch<SlaPolicy>(`/sla/policies/${id}`, body),
  preview: (body: { tier: string | null; priority: string | null; channel: string | null; category: string | null; start: string | null }) =>
    http.post<SlaPreviewResult>("/sla/policies/preview", body),
  calendars: () => http.get<BusinessCalendar[]>("/sla/calendars"),
  createCalendar: (body: Omit<BusinessCalendar, "policies">) => http.post<BusinessCalendar>("/sla/calendars", body),
  updateCalendar: (key: string, body: Partial<Omit<BusinessCalendar, "key" | "policies">>) =>
    http.patch<BusinessCalendar>(`/sla/calendars/${encodeURIComponent(key)}`, body),
  due: (key: string, seconds: number, start?: string) =>
    http.get<DueResult>(`/sla/calendars/${encodeURIComponent(key)}/due`, { seconds, start }),
};

// --- workflows ---------------------------------------------------------------------------------

export interface WorkflowSummary {
  key: string;
  version: number;
  versions: number[];
  name: string;
  description: string;
  initial_step: string;
  step_count: number;
  source: string;
}

export interface WorkflowDetail extends WorkflowSummary {
  steps: Array<{ id: string; name: string; kind: string; status: string | null; sla: string | null; owner: { functions: string[]; roles: string[] } | null }>;
  transitions: Array<{ action: string; name: string; from: string[]; to: string | null; stay: boolean; inputs: string[] }>;
  clocks: Array<{ name: string; target: string | null }>;
  yaml: string;
}

export interface WorkflowValidation {
  valid: boolean;
  key?: string;
  version?: number;
  name?: string;
  steps?: string[];
  problems: Array<{ line: number | null; message: string }>;
}

export const workflowApi = {
  list: () => http.get<WorkflowSummary[]>("/workflows"),
  get: (key: string, version?: number) => http.get<WorkflowDetail>(`/workflows/${encodeURIComponent(key)}`, { version }),
  validate: (yaml: string) => http.post<WorkflowValidation>("/workflows/validate", { yaml }),
};

// --- customer value model ----------------------------------------------------------------------

export type Matrix = number[][];

export interface TierRule {
  tier: string;
  basis: "index" | "arpu";
  minimum: number;
}

export interface ModelDocument {
  criteria_matrix: Matrix;
  criteria: Array<{ key: string; indicators: string[]; matrix: Matrix }>;
  tier_rules: TierRule[];
  [setting: string]: unknown;
}

export interface Consistency {
  lambda_max: number;
  consistency_index: number;
  consistency_ratio: number;
}

export interface ModelView {
  version: number | null;
  active: boolean;
  created_at: string | null;
  document: ModelDocument;
  weights: {
    criteria_matrix: Consistency;
    criteria: Array<Consistency & { key: string; weight: number; indicators: Array<{ metric: string; local_weight: number; global_weight: number }> }>;
  };
}

export interface ModelVersion {
  version: number;
  is_active: boolean;
  active: boolean;
  created_at: string;
}

export interface ValueRun {
  id: number;
  kind: string;
  status: string;
  customers: number;
  tier_changes: number;
  seconds: number | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export const valueApi = {
  model: () => http.get<ModelView>("/value/model"),
  validate: (document: ModelDocument) => http.post<ModelView>("/value/model/validate", document),
  save: (document: ModelDocument) => http.put<ModelView>("/value/model", document),
  versions: () => http.get<ModelVersion[]>("/value/model/versions"),
  runs: () => http.get<ValueRun[]>("/value/runs"),
  recompute: (kind: "full" | "incremental") => http.post<{ kind: string; task_id: string }>("/value/runs", { kind }),
};
