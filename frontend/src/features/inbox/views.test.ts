import { describe, expect, it } from "vitest";

import type { Department } from "./api";
import { emptyFilters, filtersFromRoute, filtersToRoute, viewName, viewQuery, visibleDepartments } from "./views";

describe("viewQuery", () => {
  const now = Date.parse("2026-01-01T09:00:00Z");

  it("gives each saved view its filters", () => {
    expect(viewQuery("mine", emptyFilters(), now)).toEqual({ status: ["active"], assignee: "me", sort: "priority", limit: 25 });
    expect(viewQuery("unassigned", emptyFilters(), now)).toMatchObject({ assignee: "none", status: ["active"] });
    expect(viewQuery("pending", emptyFilters(), now)).toMatchObject({ status: ["pending"], sort: "updated" });
    expect(viewQuery("breaching", emptyFilters(), now)).toMatchObject({ sort: "due", due_before: "2026-01-01T10:00:00.000Z" });
    expect(viewQuery("all", emptyFilters(), now)).not.toHaveProperty("assignee");
  });

  it("adds the chosen filters; a chosen status and sort replace the view's", () => {
    const filters = { ...emptyFilters(), status: ["new"], priority: ["urgent"], channel: ["sms"], department: 7, q: " bangkok ", sort: "updated" as const };
    expect(viewQuery("mine", filters, now)).toEqual({
      status: ["new"],
      assignee: "me",
      priority: ["urgent"],
      channel: ["sms"],
      department_id: 7,
      q: "bangkok",
      sort: "updated",
      limit: 25,
    });
  });

  it("round-trips filters through the URL and refuses junk", () => {
    const filters = { ...emptyFilters(), status: ["open", "new"], tier: ["gold"], department: 3, q: "li na", sort: "due" as const };
    expect(filtersFromRoute(filtersToRoute(filters))).toEqual(filters);
    expect(filtersFromRoute({ sort: "id desc", department: "x" })).toEqual(emptyFilters());
    expect(viewName("breaching")).toBe("breaching");
    expect(viewName("nope")).toBe("mine");
  });
});

describe("visibleDepartments: the server's scope rule", () => {
  const tree: Department[] = [
    { id: 1, name: "Centre", kind: "centre", parent_id: null, is_active: true },
    { id: 2, name: "Front line", kind: "department", parent_id: 1, is_active: true },
    { id: 3, name: "Hotline group", kind: "group", parent_id: 2, is_active: true },
    { id: 4, name: "Back office", kind: "department", parent_id: 1, is_active: true },
    { id: 5, name: "Other centre", kind: "centre", parent_id: null, is_active: true },
  ];
  const member = (role: "agent" | "supervisor" | "admin", id?: number) => ({
    role,
    memberships: id ? [{ department_id: id, department_name: "", is_lead: false }] : [],
  });

  it("an agent sees their department and its groups; a supervisor the whole centre; an admin all", () => {
    expect(visibleDepartments(tree, member("agent", 2)).map((d) => d.id)).toEqual([2, 3]);
    expect(visibleDepartments(tree, member("supervisor", 4)).map((d) => d.id)).toEqual([1, 2, 3, 4]);
    expect(visibleDepartments(tree, member("admin")).map((d) => d.id)).toEqual([1, 2, 3, 4, 5]);
  });
});
