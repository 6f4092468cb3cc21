// One Socket.IO connection per tab, authenticated by the session cookie. Screens join the rooms
// they show ("ticket:42", "department:7", "supervisors"); after any reconnect the client resumes
// from the last seq it applied and the server replays what was missed before live events
// (RELIABILITY.md promise 5). A screen subscribes to event types and never sees one twice.
import { io, type Socket } from "socket.io-client";
import { ref } from "vue";

import { EventLedger } from "./ledger";

export interface OutboxEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
  at: string;
}

export interface Refusal {
  room: string;
  code: string;
  detail: string;
}

interface ResumeAck {
  ok: boolean;
  joined?: string[];
  refused?: Refusal[];
  events?: OutboxEvent[];
  truncated?: boolean;
  head?: number;
  code?: string;
  detail?: string;
}

type Handler<T> = (payload: T) => void;
export type ConnectionState = "idle" | "connecting" | "live" | "offline";

class RealtimeClient {
  readonly state = ref<ConnectionState>("idle");
  /** Rooms refused or revoked, with the server's reason, for screens to explain. */
  readonly refusals = ref<Refusal[]>([]);
  private socket: Socket | null = null;
  private readonly ledger = new EventLedger();
  private readonly rooms = new Map<string, number>(); // room -> how many screens want it
  private readonly handlers = new Map<string, Set<Handler<OutboxEvent>>>();
  private readonly messageHandlers = new Map<string, Set<Handler<unknown>>>();
  private readonly resyncHandlers = new Set<() => void>();

  connect(): void {
    if (this.socket) return;
    this.state.value = "connecting";
    const socket = io({ path: "/socket.io", transports: ["websocket"], withCredentials: true });
    this.socket = socket;
    socket.on("connect", () => void this.resume());
    socket.on("disconnect", () => {
      this.state.value = "offline";
    });
    socket.on("connect_error", () => {
      this.state.value = "offline";
    });
    socket.on("event", (event: OutboxEvent) => this.apply(event));
    socket.on("room_revoked", (refusal: Refusal) => {
      this.rooms.delete(refusal.room);
      this.refusals.value = [...this.refusals.value, refusal];
    });
    // Presence, collisions, supervisor snapshots: not outbox events, passed through as they come.
    socket.onAny((name: string, payload: unknown) => {
      if (name === "event") return;
      this.messageHandlers.get(name)?.forEach((handler) => handler(payload));
    });
  }

  disconnect(): void {
    this.socket?.disconnect();
    this.socket = null;
    this.rooms.clear();
    this.ledger.reset();
    this.state.value = "idle";
  }

  /** Join a room for as long as the returned function is not called. */
  join(room: string): () => void {
    const count = this.rooms.get(room) ?? 0;
    this.rooms.set(room, count + 1);
    if (count === 0 && this.socket?.connected) {
      this.socket.emit("join", { room }, (ack: { ok: boolean; code?: string; detail?: string }) => {
        if (!ack.ok) this.refuse({ room, code: ack.code ?? "refused", detail: ack.detail ?? "" });
      });
    }
    return () => this.leave(room);
  }

  private leave(room: string): void {
    const count = this.rooms.get(room) ?? 0;
    if (count > 1) {
      this.rooms.set(room, count - 1);
      return;
    }
    this.rooms.delete(room);
    if (this.socket?.connected) this.socket.emit("leave", { room });
  }

  /** Outbox events of one type ("message.created"), or "*" for all; returns the unsubscribe. */
  on(type: string, handler: Handler<OutboxEvent>): () => void {
    const set = this.handlers.get(type) ?? new Set();
    set.add(handler);
    this.handlers.set(type, set);
    return () => set.delete(handler);
  }

  /** Non-outbox messages ("presence", "collision", "supervisor_snapshot", …). */
  onMessage<T>(name: string, handler: Handler<T>): () => void {
    const set = this.messageHandlers.get(name) ?? new Set();
    set.add(handler as Handler<unknown>);
    this.messageHandlers.set(name, set);
    return () => set.delete(handler as Handler<unknown>);
  }

  /** Called when more was missed than the server replays: reload from the API. */
  onResync(handler: () => void): () => void {
    this.resyncHandlers.add(handler);
    return () => this.resyncHandlers.delete(handler);
  }

  /** Emit with an acknowledgement (presence: viewing, typing). */
  request<T>(name: string, data: unknown): Promise<T | null> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve(null);
    return new Promise((resolve) => socket.timeout(5000).emit(name, data, (err: unknown, ack: T) => resolve(err ? null : ack)));
  }

  private refuse(refusal: Refusal): void {
    this.rooms.delete(refusal.room);
    this.refusals.value = [...this.refusals.value, refusal];
  }

  private async resume(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    const ack = (await socket.emitWithAck("resume", { last_seq: this.ledger.lastSeq, rooms: [...this.rooms.keys()] })) as ResumeAck;
    if (!ack.ok) {
      this.state.value = "offline";
      return;
    }
    ack.refused?.forEach((refusal) => this.refuse(refusal));
    if (ack.truncated) {
      this.ledger.startAt(ack.head ?? 0);
      this.resyncHandlers.forEach((handler) => handler());
    } else {
      ack.events?.forEach((event) => this.apply(event));
      if (ack.head !== undefined) this.ledger.startAt(ack.head);
    }
    this.state.value = "live";
  }

  private apply(event: OutboxEvent): void {
    if (!this.ledger.accept(event.seq)) return;
    this.handlers.get(event.type)?.forEach((handler) => handler(event));
    this.handlers.get("*")?.forEach((handler) => handler(event));
  }
}

export const realtime = new RealtimeClient();
