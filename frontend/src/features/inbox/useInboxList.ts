// The loaded list of one view: first page, "load more", and live re-checks of changed tickets.
// Bursts of events are gathered (DEBOUNCE_MS, at most MAX_WAIT_MS) into one GET /tickets?id=….
import { computed, onScopeDispose, ref, shallowRef, type Ref } from "vue";

import { errorText } from "@/api/http";

import { inboxApi, type TicketRow } from "./api";
import { applyChecked, releaseHeld } from "./listPatch";
import { effectiveSort, viewQuery, type Filters, type ViewName } from "./views";

export const DEBOUNCE_MS = 250;
export const MAX_WAIT_MS = 1000;
const ID_CHUNK = 100;

export function useInboxList(view: Ref<ViewName>, filters: Ref<Filters>, isScrolled: () => boolean) {
  const rows = shallowRef<TicketRow[]>([]);
  const held = shallowRef<TicketRow[]>([]);
  const nextCursor = ref<string | null>(null);
  const boundary = shallowRef<TicketRow | null>(null);
  const loading = ref(false);
  const loadingMore = ref(false);
  const error = ref<string | null>(null);
  const sort = computed(() => effectiveSort(view.value, filters.value));
  // Every first-page load starts a new generation; answers of an older one are stale.
  let generation = 0;
  let controller: AbortController | null = null;

  async function loadFirst(): Promise<void> {
    const gen = ++generation;
    controller?.abort();
    controller = new AbortController();
    loading.value = true;
    error.value = null;
    try {
      const page = await inboxApi.list(viewQuery(view.value, filters.value, Date.now()), controller.signal);
      if (gen !== generation) return;
      rows.value = page.items;
      held.value = [];
      nextCursor.value = page.next_cursor;
      boundary.value = page.next_cursor ? (page.items.at(-1) ?? null) : null;
    } catch (err) {
      if (gen !== generation || (err instanceof DOMException && err.name === "AbortError")) return;
      error.value = errorText(err);
      rows.value = [];
    } finally {
      if (gen === generation) loading.value = false;
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextCursor.value || loadingMore.value) return;
    const gen = generation;
    loadingMore.value = true;
    try {
      const page = await inboxApi.list({ ...viewQuery(view.value, filters.value, Date.now()), cursor: nextCursor.value });
      if (gen !== generation) return;
      const shown = new Set(rows.value.map((row) => row.id));
      rows.value = [...rows.value, ...page.items.filter((row) => !shown.has(row.id))];
      nextCursor.value = page.next_cursor;
      boundary.value = page.next_cursor ? (page.items.at(-1) ?? null) : null;
    } catch (err) {
      if (gen === generation) error.value = errorText(err);
    } finally {
      loadingMore.value = false;
    }
  }

  const pending = new Set<number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let firstAt: number | null = null;

  /** A ticket changed: re-check it under this view's filters, soon, together with its burst. */
  function touched(ticketId: number): void {
    pending.add(ticketId);
    firstAt ??= Date.now();
    clearTimeout(timer);
    timer = setTimeout(() => void flush(), Math.max(0, Math.min(DEBOUNCE_MS, firstAt + MAX_WAIT_MS - Date.now())));
  }

  async function flush(): Promise<void> {
    if (loading.value) {
      // The first page is on its way and may predate these changes: re-check once it is here.
      timer = setTimeout(() => void flush(), DEBOUNCE_MS);
      return;
    }
    const ids = [...pending];
    pending.clear();
    firstAt = null;
    const gen = generation;
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const chunk = ids.slice(i, i + ID_CHUNK);
      let fresh: TicketRow[];
      try {
        fresh = (await inboxApi.list({ ...viewQuery(view.value, filters.value, Date.now()), id: chunk, limit: ID_CHUNK })).items;
      } catch {
        continue; // a missed live update; the next event or a resync reloads the row
      }
      if (gen !== generation) return; // a reload since, with fresher rows
      const result = applyChecked({ rows: rows.value, held: held.value }, chunk, fresh, {
        sort: sort.value,
        boundary: boundary.value,
        holdNew: isScrolled(),
      });
      rows.value = result.rows;
      held.value = result.held;
    }
  }

  function showHeld(): void {
    const state = releaseHeld({ rows: rows.value, held: held.value }, sort.value);
    rows.value = state.rows;
    held.value = state.held;
  }

  onScopeDispose(() => {
    clearTimeout(timer);
    controller?.abort();
  });

  return { rows, held, nextCursor, loading, loadingMore, error, sort, loadFirst, loadMore, touched, flush, showHeld };
}
