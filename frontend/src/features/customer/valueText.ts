// The value explanation in the reader's language: the server sends figures with English words,
// so labels and churn reasons are rebuilt here from the figures (the server's words stay the fallback).
import type { ChurnReason, Label } from "./api";

type Translate = (key: string, values?: Record<string, unknown>, plural?: number) => string;

export function labelText(label: Label | null, locale: string): string | null {
  if (!label) return null;
  return locale === "zh-CN" ? label.zh : label.en;
}

export function formatNumber(value: number | null | undefined, locale: string, digits = 2): string {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

function num(figures: Record<string, unknown>, key: string): number | null {
  const value = figures[key];
  return typeof value === "number" ? value : null;
}

/** One churn reason in words and figures; unknown codes keep the server's own words. */
export function reasonText(reason: ChurnReason, t: Translate, locale: string): string {
  const f = reason.figures ?? {};
  const days = num(f, "window_days");
  const key = "customer.value.detail";
  switch (reason.code) {
    case "recency_rising": {
      const recency = num(f, "recency_days");
      const gap = num(f, "usual_gap_days");
      const ratio = num(f, "times_usual_gap");
      if (recency === null) return t(`${key}.recencyNone`);
      if (gap !== null && ratio !== null) return t(`${key}.recencyGap`, { days: recency, gap: formatNumber(gap, locale, 0), ratio: formatNumber(ratio, locale, 1) });
      return t(`${key}.recencyWindow`, { days: recency });
    }
    case "frequency_falling":
      return t(`${key}.frequency_falling`, { days, recent: num(f, "purchases_recent"), prior: num(f, "purchases_prior") });
    case "spend_falling":
      return t(`${key}.spend_falling`, { days, recent: formatNumber(num(f, "spend_recent"), locale), prior: formatNumber(num(f, "spend_prior"), locale) });
    case "complaint": {
      const n = num(f, "complaints_recent") ?? 0;
      return t(`${key}.complaint`, { days, n }, n);
    }
    case "sla_breach": {
      const n = num(f, "breaches_recent") ?? 0;
      return t(`${key}.sla_breach`, { days, n }, n);
    }
    default:
      return reason.detail;
  }
}

/** A reason's title: ours for the codes we know, the server's label otherwise. */
export function reasonLabel(reason: ChurnReason, t: Translate): string {
  const key = `customer.value.reasons.${reason.code}`;
  const text = t(key);
  return text === key ? reason.label : text;
}
