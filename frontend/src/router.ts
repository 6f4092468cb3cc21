// Routes. Every screen but login is lazy, so the first screen downloads only what it shows.
// Each feature adds its routes here (one block per feature).
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";

import { adminRoute } from "@/features/admin/routes";
import { useSessionStore } from "@/stores/session";

declare module "vue-router" {
  interface RouteMeta {
    /** Public pages (login) need no session. */
    public?: boolean;
    /** Only supervisors and admins. */
    supervisor?: boolean;
    /** Only admins. */
    admin?: boolean;
    /** i18n key of the page title. */
    title?: string;
  }
}

const routes: RouteRecordRaw[] = [
  { path: "/login", name: "login", component: () => import("@/features/login/LoginView.vue"), meta: { public: true, title: "login.title" } },
  { path: "/", redirect: { name: "inbox" } },
  // --- inbox (agent workspace) ---
  { path: "/inbox/:view?", name: "inbox", component: () => import("@/features/inbox/InboxView.vue"), meta: { title: "nav.inbox" } },
  // --- case view and customer 360 ---
  { path: "/tickets/:id(\\d+)", name: "ticket", component: () => import("@/features/case/CaseView.vue"), meta: { title: "case.page" } },
  { path: "/customers/:id(\\d+)", name: "customer", component: () => import("@/features/customer/CustomerView.vue"), meta: { title: "customer.title" } },
  { path: "/notifications", name: "notifications", component: () => import("@/features/notifications/NotificationsView.vue"), meta: { title: "notifications.title" } },
  // --- department board ---
  { path: "/board", name: "board", component: () => import("@/features/board/BoardView.vue"), meta: { title: "board.title" } },
  // --- supervisor dashboard ---
  { path: "/supervisor", name: "supervisor", component: () => import("@/features/supervisor/SupervisorView.vue"), meta: { supervisor: true, title: "supervisor.title" } },
  // --- administration ---
  adminRoute,
  { path: "/:pathMatch(.*)*", redirect: { name: "inbox" } },
];

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  const session = useSessionStore();
  await session.restore().catch(() => undefined);
  if (to.meta.public) return session.me && to.name === "login" ? { name: "inbox" } : true;
  if (!session.me) return { name: "login", query: to.fullPath !== "/" ? { next: to.fullPath } : {} };
  if (to.meta.admin && !session.isAdmin) return { name: "inbox" };
  if (to.meta.supervisor && !session.isSupervisor) return { name: "inbox" };
  return true;
});
