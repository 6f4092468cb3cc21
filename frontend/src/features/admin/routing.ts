// Routing-rule form logic: the request bodies for saving a rule and for reordering the list.
import type { Conditions, RoutingRule, RoutingRuleInput } from "./api";
import { splitList } from "./tree";

/** The ids after moving the rule at `index` by `delta` (-1 up, +1 down); unchanged at the ends. */
export function moved(ids: number[], index: number, delta: number): number[] {
  const target = index + delta;
  if (index < 0 || index >= ids.length || target < 0 || target >= ids.length) return ids;
  const next = [...ids];
  const [id] = next.splice(index, 1);
  next.splice(target, 0, id!);
  return next;
}

/** POST /routing-rules/reorder body: every rule id once, in the new order. */
export function reorderBody(rules: RoutingRule[], index: number, delta: number): { ids: number[] } {
  return { ids: moved(rules.map((r) => r.id), index, delta) };
}

export interface RuleDraft {
  name: string;
  enabled: boolean;
  channels: string[];
  tiers: string[];
  keywords_any: string;
  keywords_all: string;
  categories: string;
  languages: string;
  accounts: string;
  target: "department" | "function";
  department: number | null;
  department_function: string;
  workflow: string;
  priority: string;
  tags: string;
}

export function blankRule(): RuleDraft {
  return {
    name: "",
    enabled: true,
    channels: [],
    tiers: [],
    keywords_any: "",
    keywords_all: "",
    categories: "",
    languages: "",
    accounts: "",
    target: "department",
    department: null,
    department_function: "",
    workflow: "general_enquiry",
    priority: "from_tier",
    tags: "",
  };
}

export function draftOf(rule: RoutingRule): RuleDraft {
  const c = rule.conditions ?? {};
  const o = rule.outcome;
  const byFunction = o.department_function != null && o.department_function !== "";
  return {
    name: rule.name,
    enabled: rule.enabled,
    channels: [...(c.channels ?? [])],
    tiers: [...(c.tiers ?? [])],
    keywords_any: (c.keywords_any ?? []).join(", "),
    keywords_all: (c.keywords_all ?? []).join(", "),
    categories: (c.categories ?? []).join(", "),
    languages: (c.languages ?? []).join(", "),
    accounts: (c.accounts ?? []).join(", "),
    target: byFunction ? "function" : "department",
    department: !byFunction && typeof o.department === "number" ? o.department : !byFunction && o.department ? Number(o.department) || null : null,
    department_function: o.department_function ?? "",
    workflow: o.workflow,
    priority: o.priority ?? "from_tier",
    tags: (o.tags ?? []).join(", "),
  };
}

/** The rule as the API takes it: only the conditions given (none at all: the default rule, null). */
export function ruleBody(draft: RuleDraft): RoutingRuleInput {
  const lists: Array<[keyof Conditions, string[]]> = [
    ["channels", draft.channels],
    ["tiers", draft.tiers],
    ["keywords_any", splitList(draft.keywords_any)],
    ["keywords_all", splitList(draft.keywords_all)],
    ["categories", splitList(draft.categories)],
    ["languages", splitList(draft.languages)],
    ["accounts", splitList(draft.accounts)],
  ];
  const given = lists.filter(([, values]) => values.length);
  return {
    name: draft.name.trim(),
    enabled: draft.enabled,
    conditions: given.length ? (Object.fromEntries(given) as Conditions) : null,
    outcome: {
      workflow: draft.workflow,
      ...(draft.target === "department" ? { department: draft.department } : { department_function: draft.department_function.trim() }),
      priority: draft.priority,
      tags: splitList(draft.tags),
    },
  };
}
