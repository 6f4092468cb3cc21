// Where a ticket or a customer opens. The case view owns route "ticket"; until it exists the
// path is pushed as is (the router then falls back to the inbox).
import type { RouteLocationRaw, Router } from "vue-router";

export function ticketLocation(router: Router, id: number): RouteLocationRaw {
  return router.hasRoute("ticket") ? { name: "ticket", params: { id: String(id) } } : `/tickets/${id}`;
}

export function customerLocation(id: number): RouteLocationRaw {
  return { name: "customer", params: { id: String(id) } };
}
