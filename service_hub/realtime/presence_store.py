"""Where ephemeral presence lives: who views or types on a ticket, and how many sockets each agent has.

Two implementations behind one interface. The embedded default (one Socket.IO process, no Redis)
keeps it in memory; production (several web processes joined by the Redis message queue) keeps it
in Redis, because a viewer on process 1 and a typist on process 2 must see each other, and an
agent's last socket can close on any process. `store_for(settings)` picks by settings.redis_url.

Every entry carries its own expiry, so a process that dies without running its disconnect handlers
leaves nothing behind for long: viewers and typists time out, and socket entries time out unless
their process refreshes them (`refresh_sockets`, from the presence sweeper of each process).

Members are "<agent id>:<sid>": one agent with two tabs on the same ticket is two entries, and
closing one tab leaves the agent viewing. Readers collapse them to agent ids.

The sweeps claim their work (`due_tickets`, `gone_agents`) by removing it, so any number of
processes may sweep at once and each expiry or offline transition is acted on by one of them.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

VIEWING = "viewing"
TYPING = "typing"
KINDS = (VIEWING, TYPING)


def member(agent_id: int, sid: str) -> str:
    return f"{agent_id}:{sid}"


def agent_of(entry: str) -> int:
    return int(entry.partition(":")[0])


@dataclass(frozen=True)
class TicketPresence:
    viewers: tuple[int, ...]  # agent ids, ascending
    typing: tuple[int, ...]


class PresenceStore(Protocol):
    def touch(self, kind: str, ticket_id: int, entry: str, until: float) -> bool:
        """Add or refresh an entry; True if it is new (the ticket's presence changed)."""

    def remove(self, kind: str, ticket_id: int, entry: str) -> bool:
        """Drop an entry; True if it was there."""

    def state(self, ticket_id: int, now: float) -> TicketPresence:
        """The live entries of a ticket (expired ones are dropped on the way)."""

    def prune(self, ticket_id: int, now: float) -> int:
        """Drop expired entries of a ticket; how many went. Schedules the ticket's next expiry."""

    def due_tickets(self, now: float) -> list[int]:
        """Claim the tickets whose earliest entry may have expired by now (each claimed once)."""

    def add_socket(self, agent_id: int, sid: str, until: float) -> int:
        """An agent's socket connected (or is still there, until `until`); returns their live socket count."""

    def remove_socket(self, agent_id: int, sid: str, now: float) -> int:
        """A socket closed; returns the agent's live socket count. At zero the agent counts as gone since now."""

    def refresh_sockets(self, sockets: dict[str, int], until: float) -> None:
        """Keep this process's sockets (sid -> agent id) alive until `until`."""

    def socket_count(self, agent_id: int, now: float) -> int: ...

    def gone_agents(self, now: float, grace: float) -> list[int]:
        """Claim the agents without a live socket for at least `grace` seconds (each claimed once)."""


# In memory: the embedded default, one process.


@dataclass
class MemoryPresenceStore:
    entries: dict[tuple[str, int], dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    deadlines: dict[int, float] = field(default_factory=dict)
    sockets: dict[int, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    last_seen: dict[int, float] = field(default_factory=dict)  # agent -> when their sockets were last known alive
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _schedule(self, ticket_id: int, until: float) -> None:
        current = self.deadlines.get(ticket_id)
        self.deadlines[ticket_id] = until if current is None else min(current, until)

    def touch(self, kind: str, ticket_id: int, entry: str, until: float) -> bool:
        with self.lock:
            entries = self.entries[(kind, ticket_id)]
            new = entry not in entries
            entries[entry] = until
            self._schedule(ticket_id, until)
            return new

    def remove(self, kind: str, ticket_id: int, entry: str) -> bool:
        with self.lock:
            return self.entries[(kind, ticket_id)].pop(entry, None) is not None

    def _prune(self, ticket_id: int, now: float) -> int:
        removed, nearest = 0, None
        for kind in KINDS:
            entries = self.entries.get((kind, ticket_id), {})
            for entry, until in list(entries.items()):
                if until <= now:
                    del entries[entry]
                    removed += 1
                else:
                    nearest = until if nearest is None else min(nearest, until)
            if not entries:
                self.entries.pop((kind, ticket_id), None)
        if nearest is not None:
            self._schedule(ticket_id, nearest)
        return removed

    def prune(self, ticket_id: int, now: float) -> int:
        with self.lock:
            return self._prune(ticket_id, now)

    def state(self, ticket_id: int, now: float) -> TicketPresence:
        with self.lock:
            self._prune(ticket_id, now)
            found = [tuple(sorted({agent_of(e) for e in self.entries.get((kind, ticket_id), {})})) for kind in KINDS]
        return TicketPresence(*found)

    def due_tickets(self, now: float) -> list[int]:
        with self.lock:
            due = [t for t, at in self.deadlines.items() if at <= now]
            for ticket_id in due:
                del self.deadlines[ticket_id]
            return due

    def _live(self, agent_id: int, now: float) -> int:
        sockets = self.sockets.get(agent_id, {})
        for sid, until in list(sockets.items()):
            if until <= now:
                del sockets[sid]
        return len(sockets)

    def add_socket(self, agent_id: int, sid: str, until: float) -> int:
        with self.lock:
            self.sockets[agent_id][sid] = until
            self.last_seen[agent_id] = max(self.last_seen.get(agent_id, 0.0), until)
            return len(self.sockets[agent_id])

    def remove_socket(self, agent_id: int, sid: str, now: float) -> int:
        with self.lock:
            self.sockets.get(agent_id, {}).pop(sid, None)
            live = self._live(agent_id, now)
            if live == 0:
                self.last_seen[agent_id] = now
            return live

    def refresh_sockets(self, sockets: dict[str, int], until: float) -> None:
        with self.lock:
            for sid, agent_id in sockets.items():
                if sid in self.sockets.get(agent_id, {}):  # only sockets not already closed
                    self.sockets[agent_id][sid] = until
                    self.last_seen[agent_id] = max(self.last_seen.get(agent_id, 0.0), until)

    def socket_count(self, agent_id: int, now: float) -> int:
        with self.lock:
            return self._live(agent_id, now)

    def gone_agents(self, now: float, grace: float) -> list[int]:
        with self.lock:
            gone = [a for a, seen in self.last_seen.items() if seen <= now - grace and self._live(a, now) == 0]
            for agent_id in gone:
                del self.last_seen[agent_id]
            return gone


# Redis: production, shared by every web process.


class RedisPresenceStore:
    """Sorted sets scored by expiry time, each key with a TTL so nothing outlives its use.

    presence:<kind>:<ticket>  entry -> expiry          presence:deadlines  ticket -> earliest expiry
    presence:sockets:<agent>  sid -> expiry            presence:agents     agent -> last known alive
    """

    KEY_TTL = 3600  # seconds; keys of a quiet ticket or agent vanish on their own

    def __init__(self, client: Any, prefix: str = "presence") -> None:
        self.redis = client
        self.prefix = prefix

    def _key(self, *parts: object) -> str:
        return ":".join((self.prefix, *map(str, parts)))

    def touch(self, kind: str, ticket_id: int, entry: str, until: float) -> bool:
        key = self._key(kind, ticket_id)
        pipe = self.redis.pipeline()
        pipe.zadd(key, {entry: until})
        pipe.expire(key, self.KEY_TTL)
        pipe.zadd(self._key("deadlines"), {str(ticket_id): until}, lt=True)
        added = pipe.execute()[0]
        return bool(added)

    def remove(self, kind: str, ticket_id: int, entry: str) -> bool:
        return bool(self.redis.zrem(self._key(kind, ticket_id), entry))

    def prune(self, ticket_id: int, now: float) -> int:
        pipe = self.redis.pipeline()
        for kind in KINDS:
            pipe.zremrangebyscore(self._key(kind, ticket_id), "-inf", now)
        for kind in KINDS:
            pipe.zrange(self._key(kind, ticket_id), 0, 0, withscores=True)
        results = pipe.execute()
        nearest = [rows[0][1] for rows in results[len(KINDS) :] if rows]
        if nearest:
            self.redis.zadd(self._key("deadlines"), {str(ticket_id): min(nearest)}, lt=True)
        return int(sum(results[: len(KINDS)]))

    def state(self, ticket_id: int, now: float) -> TicketPresence:
        self.prune(ticket_id, now)
        pipe = self.redis.pipeline()
        for kind in KINDS:
            pipe.zrangebyscore(self._key(kind, ticket_id), now, "+inf")
        found = [tuple(sorted({agent_of(e.decode() if isinstance(e, bytes) else e) for e in rows})) for rows in pipe.execute()]
        return TicketPresence(*found)

    def due_tickets(self, now: float) -> list[int]:
        key = self._key("deadlines")
        claimed = []
        for raw in self.redis.zrangebyscore(key, "-inf", now, start=0, num=500):
            if self.redis.zrem(key, raw):  # the process whose ZREM wins handles it
                claimed.append(int(raw))
        return claimed

    def _live(self, agent_id: int, now: float) -> int:
        key = self._key("sockets", agent_id)
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zcard(key)
        return int(pipe.execute()[1])

    def add_socket(self, agent_id: int, sid: str, until: float) -> int:
        key = self._key("sockets", agent_id)
        pipe = self.redis.pipeline()
        pipe.zadd(key, {sid: until})
        pipe.expire(key, self.KEY_TTL)
        pipe.zadd(self._key("agents"), {str(agent_id): until}, gt=True)
        pipe.zcard(key)
        return int(pipe.execute()[-1])

    def remove_socket(self, agent_id: int, sid: str, now: float) -> int:
        self.redis.zrem(self._key("sockets", agent_id), sid)
        live = self._live(agent_id, now)
        if live == 0:
            self.redis.zadd(self._key("agents"), {str(agent_id): now})  # gone since now
        return live

    def refresh_sockets(self, sockets: dict[str, int], until: float) -> None:
        if not sockets:
            return
        pipe = self.redis.pipeline()
        for sid, agent_id in sockets.items():
            pipe.zadd(self._key("sockets", agent_id), {sid: until}, xx=True)  # only sockets not already closed
            pipe.expire(self._key("sockets", agent_id), self.KEY_TTL)
            pipe.zadd(self._key("agents"), {str(agent_id): until}, gt=True)
        pipe.execute()

    def socket_count(self, agent_id: int, now: float) -> int:
        return self._live(agent_id, now)

    def gone_agents(self, now: float, grace: float) -> list[int]:
        key = self._key("agents")
        gone = []
        for raw in self.redis.zrangebyscore(key, "-inf", now - grace, start=0, num=500):
            agent_id = int(raw)
            if self._live(agent_id, now) > 0:
                continue  # a socket whose process refreshes it lags behind; its next refresh moves the score
            if self.redis.zrem(key, raw):
                gone.append(agent_id)
        return gone


REDIS_POOL_SIZE = 32


def store_for(redis_url: str | None) -> PresenceStore:
    if not redis_url:
        return MemoryPresenceStore()
    import redis

    # A bounded pool that waits: 2,000 sockets closing at once are 2,000 greenlets calling Redis,
    # and an unbounded pool opened a connection for each ("Too many connections" in the benchmark).
    pool = redis.BlockingConnectionPool.from_url(redis_url, max_connections=REDIS_POOL_SIZE, timeout=10)
    return RedisPresenceStore(redis.Redis(connection_pool=pool))


def current_store() -> PresenceStore:
    """This app's store, made on first use (one per process, like the Socket.IO server)."""
    from flask import current_app

    found: PresenceStore | None = current_app.extensions.get("service_hub.presence")
    if found is None:
        found = current_app.extensions.setdefault("service_hub.presence", store_for(current_app.config["SERVICE_HUB"].redis_url))
    return found
