// Who else views or types on this ticket (service_hub/realtime/presence.py). Viewing is a heartbeat
// (the server forgets a viewer after 60 s), typing lapses after a few seconds unless re-sent, so
// both are refreshed on a timer while they hold; after a reconnect "viewing" is sent again.
import { computed, onUnmounted, ref, watch, type Ref } from "vue";

import { realtime } from "@/realtime/socket";
import { useSessionStore } from "@/stores/session";

export interface PresentAgent {
  agent_id: number;
  name: string;
}

interface PresenceMessage {
  ticket_id: number;
  viewers?: PresentAgent[];
  typing?: PresentAgent[];
}

const VIEWING_HEARTBEAT_MS = 25_000;
const TYPING_REFRESH_MS = 2_500; // under the server's 6 s lapse
const TYPING_IDLE_MS = 4_000;

export function usePresence(ticketId: Ref<number>) {
  const session = useSessionStore();
  const viewers = ref<PresentAgent[]>([]);
  const typing = ref<PresentAgent[]>([]);
  /** Set by the server's "collision" message: several agents type on this ticket at once. */
  const collision = ref<PresentAgent[]>([]);
  const iAmTyping = ref(false);
  let lastTypingSent = 0;
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  let heartbeat: ReturnType<typeof setInterval> | null = null;

  const me = () => session.me?.id;
  const others = (list: PresentAgent[]) => list.filter((a) => a.agent_id !== me());
  const otherViewers = computed(() => others(viewers.value));
  const otherTypists = computed(() => others(typing.value));
  /** Someone else is writing while I write a reply: the server said so, or the typing list shows it. */
  const collidingWith = computed(() => {
    if (!iAmTyping.value) return [];
    const names = new Map<number, PresentAgent>();
    [...others(collision.value), ...otherTypists.value].forEach((a) => names.set(a.agent_id, a));
    return [...names.values()];
  });

  function apply(message: PresenceMessage | null): void {
    if (!message || message.ticket_id !== ticketId.value) return;
    if (message.viewers) viewers.value = message.viewers;
    if (message.typing) {
      typing.value = message.typing;
      if (others(message.typing).length === 0) collision.value = [];
    }
  }

  async function announceViewing(): Promise<void> {
    apply(await realtime.request<PresenceMessage & { ok: boolean }>("viewing", { ticket_id: ticketId.value }));
  }

  function startViewing(): void {
    void announceViewing();
    if (heartbeat === null) heartbeat = setInterval(() => void announceViewing(), VIEWING_HEARTBEAT_MS);
  }

  function stopTyping(): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (!iAmTyping.value) return;
    iAmTyping.value = false;
    lastTypingSent = 0;
    collision.value = [];
    void realtime.request("stopped_typing", { ticket_id: ticketId.value });
  }

  /** Call on every keystroke of a reply; sends "typing" at most every few seconds. */
  function typed(): void {
    iAmTyping.value = true;
    const now = Date.now();
    if (now - lastTypingSent > TYPING_REFRESH_MS) {
      lastTypingSent = now;
      void realtime.request<PresenceMessage>("typing", { ticket_id: ticketId.value }).then(apply);
    }
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function leave(id: number): void {
    if (iAmTyping.value) void realtime.request("stopped_typing", { ticket_id: id });
    iAmTyping.value = false;
    void realtime.request("stopped_viewing", { ticket_id: id });
    viewers.value = [];
    typing.value = [];
    collision.value = [];
  }

  const stops = [
    realtime.onMessage<PresenceMessage>("presence", apply),
    realtime.onMessage<PresenceMessage>("collision", (message) => {
      if (message?.ticket_id === ticketId.value && message.typing) collision.value = message.typing;
    }),
  ];
  watch(
    () => realtime.state.value,
    (state) => state === "live" && void announceViewing(),
  );
  watch(ticketId, (_id, previous) => {
    if (previous !== undefined) leave(previous);
    startViewing();
  });
  startViewing();

  onUnmounted(() => {
    stops.forEach((stop) => stop());
    if (heartbeat) clearInterval(heartbeat);
    if (idleTimer) clearTimeout(idleTimer);
    leave(ticketId.value);
  });

  return { otherViewers, otherTypists, collidingWith, typed, stopTyping };
}
