// Where an inbox row leads: the case view (route "ticket"), optionally with a composer open.
import type { RouteLocationRaw, Router } from "vue-router";

import { currentLocale } from "@/i18n";

export type Compose = "reply" | "note";

export function ticketLocation(router: Pick<Router, "hasRoute">, id: number, compose?: Compose): RouteLocationRaw {
  const query = compose ? { compose } : {};
  // The case view's route may not be registered in every build; its path is the contract.
  return router.hasRoute("ticket") ? { name: "ticket", params: { id: String(id) }, query } : { path: `/tickets/${id}`, query };
}

/** Last activity, compact: the time today, else the date. */
export function formatActivity(iso: string | null, now: number): string {
  if (!iso) return "—";
  const at = new Date(iso);
  const today = new Date(now).toDateString() === at.toDateString();
  const options: Intl.DateTimeFormatOptions = today ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric" };
  return new Intl.DateTimeFormat(currentLocale(), options).format(at);
}
