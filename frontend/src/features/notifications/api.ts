// My notifications (service_hub/collab/api.py): keyset pages newest first, marking read.
import { http, type Page } from "@/api/http";

export interface Notification {
  id: number;
  kind: string;
  ticket: { id: number; number: number };
  message_id: number | null;
  department: { id: number; name: string } | null;
  actor: { id: number; name: string } | null;
  created_at: string;
  read_at: string | null;
}

export interface MarkReadResult {
  marked: number;
  unread_count: number;
}

export const notificationsApi = {
  list: (query: { unread?: boolean; cursor?: string | null; limit?: number }) => http.get<Page<Notification>>("/notifications", query),
  markRead: (ids: number[]) => http.post<MarkReadResult>("/notifications/read", { ids }),
  markAllRead: (upToId: number) => http.post<MarkReadResult>("/notifications/read", { up_to_id: upToId }),
};
