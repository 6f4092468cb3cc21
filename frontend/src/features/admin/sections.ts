// The administration sections, in sub-navigation order; each is the child route "admin-<section>".
export const ADMIN_SECTIONS = ["departments", "agents", "channels", "routing", "sla", "workflows", "value", "canned"] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];
