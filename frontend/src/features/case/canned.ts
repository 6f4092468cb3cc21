// Canned responses in the composer: the API calls, and the pure text logic of the picker
// (which "/shortcut" is being typed, which responses match it, where the text goes).
import { http } from "@/api/http";

export interface CannedResponse {
  id: number;
  title: string;
  body: string;
  shortcut: string | null;
  department_id: number | null;
  department_name: string | null;
  language: string | null;
}

export interface RenderedCanned {
  id: number;
  ticket_id: number;
  text: string;
  /** Variables the server does not know, left as written in `text`. */
  unknown: string[];
  /** Known variables with no value for this ticket (filled with ""). */
  empty: string[];
}

export const cannedApi = {
  list: (q: string) => http.get<{ items: CannedResponse[] }>("/canned-responses", { q: q || undefined, limit: 50 }),
  render: (ticketId: number, responseId: number) => http.get<RenderedCanned>(`/tickets/${ticketId}/canned-responses/${responseId}/render`),
};

/** "/roa" when the whole reply so far is a shortcut being typed (a slash at the start, no space), else null. */
export function slashQuery(text: string): string | null {
  return /^\/[^\s/]*$/.test(text) ? text : null;
}

/** The responses a query keeps: a "/shortcut" query matches shortcuts by prefix, other text the title, shortcut or body. */
export function matching(items: CannedResponse[], query: string): CannedResponse[] {
  const q = query.trim().toLowerCase();
  if (!q) return items;
  if (q.startsWith("/")) return items.filter((item) => item.shortcut?.toLowerCase().startsWith(q));
  return items.filter((item) => [item.title, item.shortcut ?? "", item.body].some((field) => field.toLowerCase().includes(q)));
}

/** Put `insert` in place of text[start, end); the caret goes right after it. */
export function insertAt(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}
