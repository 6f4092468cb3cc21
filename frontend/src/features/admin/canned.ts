// Canned responses in administration: the API calls and the form's body (global or one department).
import { http } from "@/api/http";

export interface CannedResponse {
  id: number;
  title: string;
  body: string;
  shortcut: string | null;
  department_id: number | null;
  department_name: string | null;
  language: "zh-CN" | "en" | null;
  version: number;
  can_edit: boolean;
}

export interface CannedDraft {
  title: string;
  body: string;
  shortcut: string;
  /** null: offered to everyone. */
  department_id: number | null;
  language: "zh-CN" | "en" | null;
}

export const blankCanned = (): CannedDraft => ({ title: "", body: "", shortcut: "", department_id: null, language: null });

export function cannedBody(draft: CannedDraft): Omit<CannedDraft, "shortcut"> & { shortcut: string | null } {
  const shortcut = draft.shortcut.trim();
  return {
    title: draft.title.trim(),
    body: draft.body,
    // "roaming" and "/roaming" mean the same shortcut; the API stores it with its slash.
    shortcut: shortcut ? (shortcut.startsWith("/") ? shortcut : `/${shortcut}`) : null,
    department_id: draft.department_id,
    language: draft.language,
  };
}

export const VARIABLES = ["customer.name", "customer.number", "ticket.number", "ticket.subject", "agent.name", "department.name"];

export const cannedAdminApi = {
  list: (q: string) => http.get<{ items: CannedResponse[] }>("/canned-responses", { q: q || undefined, limit: 200 }),
  create: (body: ReturnType<typeof cannedBody>) => http.post<CannedResponse>("/canned-responses", body),
  update: (id: number, body: ReturnType<typeof cannedBody> & { version: number }) => http.patch<CannedResponse>(`/canned-responses/${id}`, body),
  remove: (id: number) => http.delete<void>(`/canned-responses/${id}`),
};
