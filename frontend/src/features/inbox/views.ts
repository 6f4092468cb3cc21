// Saved views and filters -> the GET /tickets query. A view is a URL (/inbox/<view>); the filters
// live in the URL's query too, so a filtered list can be reloaded, bookmarked and shared.
import type { Query } from "@/api/http";
import type { Me } from "@/api/types";

import type { Department } from "./api";
import type { SortKey } from "./listPatch";

export const VIEWS = ["mine", "unassigned", "pending", "breaching", "all"] as const;
export type ViewName = (typeof VIEWS)[number];
export const DEFAULT_VIEW: ViewName = "mine";
export const SORTS: SortKey[] = ["priority", "due", "updated", "-created", "created"];
export const PAGE_SIZE = 25;
/** "Breaching soon": next due time within this window, or already past. */
export const BREACHING_WINDOW_MS = 60 * 60 * 1000;

interface ViewBase {
  status: string[];
  assignee?: "me" | "none";
  sort: SortKey;
  dueWithin?: number;
}

const BASE: Record<ViewName, ViewBase> = {
  mine: { status: ["active"], assignee: "me", sort: "priority" },
  unassigned: { status: ["active"], assignee: "none", sort: "priority" },
  pending: { status: ["pending"], sort: "updated" },
  breaching: { status: ["active"], sort: "due", dueWithin: BREACHING_WINDOW_MS },
  all: { status: ["active"], sort: "priority" },
};

export interface Filters {
  status: string[];
  priority: string[];
  channel: string[];
  tier: string[];
  department: number | null;
  q: string;
  sort: SortKey | null;
}

export function emptyFilters(): Filters {
  return { status: [], priority: [], channel: [], tier: [], department: null, q: "", sort: null };
}

export function viewName(param: unknown): ViewName {
  return VIEWS.includes(param as ViewName) ? (param as ViewName) : DEFAULT_VIEW;
}

export function defaultSort(view: ViewName): SortKey {
  return BASE[view].sort;
}

/** The sort in effect: the one chosen, else the view's own. */
export function effectiveSort(view: ViewName, filters: Filters): SortKey {
  return filters.sort ?? BASE[view].sort;
}

/** The API query of a view with filters; `now` fixes "breaching soon" at the moment of asking. */
export function viewQuery(view: ViewName, filters: Filters, now: number): Query {
  const base = BASE[view];
  const query: Query = {
    status: filters.status.length ? filters.status : base.status,
    sort: effectiveSort(view, filters),
    limit: PAGE_SIZE,
  };
  if (base.assignee) query.assignee = base.assignee;
  if (base.dueWithin) query.due_before = new Date(now + base.dueWithin).toISOString();
  if (filters.priority.length) query.priority = filters.priority;
  if (filters.channel.length) query.channel = filters.channel;
  if (filters.tier.length) query.tier = filters.tier;
  if (filters.department !== null) query.department_id = filters.department;
  if (filters.q.trim()) query.q = filters.q.trim();
  return query;
}

type RouteQuery = Record<string, string | null | Array<string | null> | undefined>;

function list(value: RouteQuery[string]): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((item) => (item ? item.split(",") : [])).filter(Boolean);
}

export function filtersFromRoute(query: RouteQuery): Filters {
  const sort = list(query.sort)[0];
  const department = Number(list(query.department)[0]);
  return {
    status: list(query.status),
    priority: list(query.priority),
    channel: list(query.channel),
    tier: list(query.tier),
    department: Number.isInteger(department) && department > 0 ? department : null,
    q: list(query.q).join(","),
    sort: SORTS.includes(sort as SortKey) ? (sort as SortKey) : null,
  };
}

export function filtersToRoute(filters: Filters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["status", "priority", "channel", "tier"] as const) if (filters[key].length) out[key] = filters[key].join(",");
  if (filters.department !== null) out.department = String(filters.department);
  if (filters.q.trim()) out.q = filters.q.trim();
  if (filters.sort) out.sort = filters.sort;
  return out;
}

/**
 * The departments whose rooms and filter options this agent gets: the same rule as the server's
 * auth.scope.compute_scope (members see their departments' subtrees, supervisors their centre's,
 * admins all), so every join is one the server accepts.
 */
export function visibleDepartments(all: Department[], me: Pick<Me, "role" | "memberships">): Department[] {
  if (me.role === "admin") return all;
  const byId = new Map(all.map((d) => [d.id, d]));
  const centreOf = (id: number): number => {
    let node = byId.get(id);
    while (node && node.parent_id !== null && byId.has(node.parent_id)) node = byId.get(node.parent_id);
    return node?.id ?? id;
  };
  const roots = new Set(me.memberships.map((m) => (me.role === "supervisor" ? centreOf(m.department_id) : m.department_id)));
  const visible = new Set<number>();
  const children = new Map<number, number[]>();
  for (const d of all) if (d.parent_id !== null) children.set(d.parent_id, [...(children.get(d.parent_id) ?? []), d.id]);
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop() as number;
    if (visible.has(id)) continue;
    visible.add(id);
    stack.push(...(children.get(id) ?? []));
  }
  return all.filter((d) => visible.has(d.id));
}
