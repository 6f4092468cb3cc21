// SLA form helpers: targets in minutes on screen and seconds in the API; opening hours as text.

export const WEEKDAYS = ["0", "1", "2", "3", "4", "5", "6"] as const;

export function toMinutes(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds / 60);
}

export function toSeconds(minutes: number | null | undefined): number | null {
  return minutes === null || minutes === undefined ? null : Math.round(minutes * 60);
}

/** [["09:00","12:00"],["13:00","18:00"]] -> "09:00-12:00, 13:00-18:00" */
export function spansText(spans: string[][] | undefined): string {
  return (spans ?? []).map(([start, end]) => `${start}-${end}`).join(", ");
}

/** "09:00-12:00, 13:00-18:00" -> [["09:00","12:00"],["13:00","18:00"]]; the API checks the times. */
export function parseSpans(text: string): string[][] {
  return text
    .split(/[,，]/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => part.split(/\s*[-–~]\s*/).slice(0, 2));
}

/** A datetime-local value ("2025-01-02T09:30") as an ISO instant with the browser's offset. */
export function localToIso(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
