// The timeline of one ticket: the newest page first, earlier pages on demand, and whatever the
// ticket's room announces fetched from the tail (never a reload of what is already shown).
import { ref, type Ref } from "vue";

import { errorText } from "@/api/http";

import { caseApi, type TimelineItem } from "./api";
import { furtherDelivery, mergeItems, withDeliveries } from "./timeline";

const PAGE = 30;

export function useTimeline(ticketId: Ref<number>) {
  const items = ref<TimelineItem[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const loadingEarlier = ref(false);
  const prevCursor = ref<string | null>(null);
  let tailCursor: string | null = null;
  let fetching: Promise<void> | null = null;
  let again = false;
  let generation = 0;
  // A delivery report can overtake its message (the send runs while the tail is being fetched).
  const reports = new Map<number, string>();
  const show = (next: TimelineItem[]) => {
    items.value = withDeliveries(next, reports);
  };

  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    error.value = null;
    try {
      const page = await caseApi.timeline(ticketId.value, { latest: true, limit: PAGE });
      if (mine !== generation) return;
      show(page.items);
      prevCursor.value = page.prev_cursor;
      tailCursor = page.tail_cursor;
    } catch (err) {
      if (mine === generation) error.value = errorText(err);
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  async function loadEarlier(): Promise<void> {
    if (!prevCursor.value || loadingEarlier.value) return;
    loadingEarlier.value = true;
    try {
      const page = await caseApi.timeline(ticketId.value, { before: prevCursor.value, limit: PAGE });
      show(mergeItems(items.value, page.items));
      prevCursor.value = page.prev_cursor;
    } catch (err) {
      error.value = errorText(err);
    } finally {
      loadingEarlier.value = false;
    }
  }

  async function fetchTail(): Promise<void> {
    const mine = generation;
    if (!tailCursor) {
      // An empty timeline has no tail yet: the newest page is all there is.
      const page = await caseApi.timeline(ticketId.value, { latest: true, limit: PAGE });
      if (mine !== generation) return;
      show(mergeItems(items.value, page.items));
      tailCursor = page.tail_cursor;
      if (prevCursor.value === null) prevCursor.value = page.prev_cursor;
      return;
    }
    let cursor: string | null = tailCursor;
    while (cursor) {
      const page = await caseApi.timeline(ticketId.value, { cursor, limit: PAGE });
      if (mine !== generation) return;
      show(mergeItems(items.value, page.items));
      tailCursor = page.tail_cursor ?? tailCursor;
      cursor = page.next_cursor;
    }
  }

  /** New entries were announced: fetch after the tail; calls while one runs coalesce into one more. */
  function refreshTail(): Promise<void> {
    if (fetching) {
      again = true;
      return fetching;
    }
    fetching = (async () => {
      try {
        do {
          again = false;
          await fetchTail();
        } while (again);
      } catch {
        // A failed live fetch must not blank the view; the next event or a resync tries again.
      } finally {
        fetching = null;
      }
    })();
    return fetching;
  }

  /** An entry may be dated before the tail (a provider's timestamp): merge the newest page too. */
  async function ensureShown(kind: TimelineItem["kind"][], id: number): Promise<void> {
    await refreshTail();
    if (items.value.some((item) => kind.includes(item.kind) && item.id === id)) return;
    const page = await caseApi.timeline(ticketId.value, { latest: true, limit: PAGE });
    show(mergeItems(items.value, page.items));
  }

  /** An entry changed in place (a call rang, was answered, ended): merge the newest page over what is shown. */
  async function refreshLatest(): Promise<void> {
    const mine = generation;
    try {
      const page = await caseApi.timeline(ticketId.value, { latest: true, limit: PAGE });
      if (mine === generation) show(mergeItems(items.value, page.items));
    } catch {
      // As for the tail: the next event or a resync tries again.
    }
  }

  function setDelivery(messageId: number, status: string): void {
    reports.set(messageId, furtherDelivery(reports.get(messageId), status) ?? status);
    show(items.value);
  }

  return { items, loading, error, loadingEarlier, prevCursor, load, loadEarlier, refreshTail, refreshLatest, ensureShown, setDelivery };
}
