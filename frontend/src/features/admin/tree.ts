// The organisation as a tree (centre > department > group), flattened depth-first for display.
import type { Department, DepartmentKind } from "./api";

export interface TreeRow {
  department: Department;
  depth: number;
}

export function departmentTree(departments: Department[]): TreeRow[] {
  const children = new Map<number | null, Department[]>();
  const ids = new Set(departments.map((d) => d.id));
  for (const d of departments) {
    // An orphan (its parent not in the list) is shown at the top rather than lost.
    const parent = d.parent_id !== null && ids.has(d.parent_id) ? d.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), d]);
  }
  const rows: TreeRow[] = [];
  const walk = (parent: number | null, depth: number): void => {
    for (const d of (children.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      rows.push({ department: d, depth });
      walk(d.id, depth + 1);
    }
  };
  walk(null, 0);
  return rows;
}

/** Which departments may hold a new one of this kind: a centre has none, a department sits in a centre, a group in a department or group. */
export function possibleParents(departments: Department[], kind: DepartmentKind, self?: number): Department[] {
  const allowed: DepartmentKind[] = kind === "department" ? ["centre"] : kind === "group" ? ["department", "group"] : [];
  return departments.filter((d) => allowed.includes(d.kind) && d.id !== self);
}

export function splitList(text: string): string[] {
  return text
    .split(/[,，\n]/)
    .map((part) => part.trim())
    .filter(Boolean);
}
