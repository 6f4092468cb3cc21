// The /admin route and its sections (admins only); router.ts adds this one record.
import type { RouteRecordRaw } from "vue-router";

const views = {
  departments: () => import("./DepartmentsView.vue"),
  agents: () => import("./AgentsView.vue"),
  channels: () => import("./ChannelsView.vue"),
  routing: () => import("./RoutingView.vue"),
  sla: () => import("./SlaView.vue"),
  workflows: () => import("./WorkflowsView.vue"),
  value: () => import("./ValueView.vue"),
  canned: () => import("./CannedView.vue"),
};

export const adminRoute: RouteRecordRaw = {
  path: "/admin",
  name: "admin",
  component: () => import("./AdminLayout.vue"),
  meta: { admin: true, title: "nav.admin" },
  redirect: { name: "admin-departments" },
  children: Object.entries(views).map(([section, component]) => ({
    path: section,
    name: `admin-${section}`,
    component,
    meta: { admin: true, title: `admin.nav.${section}` },
  })),
};
