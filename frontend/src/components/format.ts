// Formatting shared by screens: durations for SLA clocks, dates in the user's language.
import { currentLocale } from "@/i18n";

/** 3725 s -> "1h 2m"; 50 s -> "50s"; 2 d 3 h -> "2d 3h". Compact, for badges. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(Math.abs(totalSeconds)));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const zh = currentLocale() === "zh-CN";
  const unit = zh ? { d: "天", h: "小时", m: "分", s: "秒" } : { d: "d", h: "h", m: "m", s: "s" };
  if (days > 0) return `${days}${unit.d}${hours ? ` ${hours}${unit.h}` : ""}`;
  if (hours > 0) return `${hours}${unit.h}${minutes ? ` ${minutes}${unit.m}` : ""}`;
  if (minutes > 0) return `${minutes}${unit.m}`;
  return `${s % 60}${unit.s}`;
}

export type SlaRisk = "breached" | "critical" | "warning" | "ok" | "none";

/**
 * How close a due time is, for colour: breached (past), critical (under 15 min or 10 % of the
 * window left), warning (under 1 h or 25 %), ok.
 */
export function slaRisk(dueAt: string | null | undefined, now: number, startedAt?: string | null): SlaRisk {
  if (!dueAt) return "none";
  const due = Date.parse(dueAt);
  const left = (due - now) / 1000;
  if (left <= 0) return "breached";
  const window = startedAt ? (due - Date.parse(startedAt)) / 1000 : null;
  const fraction = window && window > 0 ? left / window : null;
  if (left < 15 * 60 || (fraction !== null && fraction < 0.1)) return "critical";
  if (left < 60 * 60 || (fraction !== null && fraction < 0.25)) return "warning";
  return "ok";
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(currentLocale(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}
