"""Socket.IO rooms and catch-up, with the same access rules as the API.

Rooms: "ticket:<id>" (the ticket is visible to the agent, as in tickets.access), "department:<id>"
(the department is in the agent's scope, or the agent is an admin), "supervisors" (supervisors and
admins) and "agent:<id>" (joined on connect, one's own only).

Events from the client, each answered by an ack:
  join   {room}                  -> {ok: true} | {ok: false, code, detail}
  leave  {room}                  -> {ok: true}
  resume {last_seq, rooms: [..]} -> {ok: true, joined, refused: [{room, code, detail}],
                                     events: [{seq, type, data, at}, ..], truncated}

The catch-up contract (RELIABILITY.md promise 5): the client remembers the highest `seq` it has
applied. After a reconnect it sends `resume` with that seq and the rooms it wants; the server joins
the permitted rooms *first*, then answers with every outbox event after `last_seq` for those rooms,
in seq order. Live "event" messages can arrive for the same events (published between the join and
the query), so the client drops any event whose seq it has already applied. With `truncated: true`
(more than MAX_CATCH_UP events, or events already pruned from the outbox) the client reloads its
data from the API instead. A fresh client sends last_seq = None: it joins and gets `head`, the seq
to resume from next time, and no events (it loads its data from the API).

Catch-up reads outbox_event_rooms (one row per event and room, indexed by room and seq): the
database finds the events of the client's rooms; nothing is filtered in Python.

Access is re-checked after the join as well (RELIABILITY.md, Access): each web process re-checks
every room of each of its own sockets at least once every settings.realtime_revalidate_seconds.
A socket leaves the rooms it may no longer join (removed from the department, invitation revoked,
ticket moved, token scope) and is told with
  room_revoked {room, code, detail}
and the sockets of a deactivated or deleted agent are disconnected, as are sockets whose credential
ended: a revoked or expired API token, or a session ended everywhere (the agent's session generation
moved on: logout everywhere, password change). Until its socket's turn comes,
a socket can still receive a revoked room's events: the delay is at most that interval (plus a tick).

The re-check runs in the web process's one gevent thread, next to every emit, so it is spread out:
every second (a tick) it re-checks the next ceil(sockets / period) sockets, round-robin, yielding
between agents. Per tick it reads the slice's agents with their memberships and the department tree
(the inputs of compute_scope); an agent whose inputs are those of its last re-check keeps the scope
computed then, so a tick usually computes no scope at all. Department, supervisors and agent rooms
are then checked in memory; the slice's ticket rooms, whose visibility also depends on the ticket
(moved, invitation revoked), with one statement per tick.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import join_room, leave_room
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import selectinload

from service_hub.auth.models import ApiToken
from service_hub.auth.scope import DepartmentScope, compute_scope
from service_hub.core.extensions import db, socketio
from service_hub.core.outbox import OutboxEvent, OutboxEventRoom
from service_hub.core.types import utcnow
from service_hub.org.models import Agent, Department, DepartmentMembership, Role
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import Ticket

log = logging.getLogger(__name__)

MAX_CATCH_UP = 1000
MAX_RESUME_ROOMS = 200
# Look at most this many seqs past last_seq (events of other rooms included) and answer truncated
# beyond: it bounds the index range read per room, and a client that far behind reloads anyway.
_MAX_SEQ_SPAN = 200_000


@dataclass(frozen=True)
class Refusal:
    code: str
    detail: str

    def as_ack(self) -> dict[str, Any]:
        return {"ok": False, "code": self.code, "detail": self.detail}


# Who is behind each socket of this process (sid -> agent id, token scopes). Events after connect
# run in fresh contexts, so the identity lives here; a socket's events always reach the process
# that holds it (sticky sessions), and the entry goes with the disconnect.
_principals: dict[str, tuple[int, frozenset[str]]] = {}
# sid -> ("token", token id) or ("session", the agent's session generation at connect).
_credentials: dict[str, tuple[str, int]] = {}


def remember_principal(agent_id: int, scopes: frozenset[str], credential: tuple[str, int] | None = None) -> None:
    """Called on connect."""
    _principals[request.sid] = (agent_id, frozenset(scopes))  # type: ignore[attr-defined]
    if credential is not None:
        _credentials[request.sid] = credential  # type: ignore[attr-defined]
    _pending.append(request.sid)  # type: ignore[attr-defined]
    if not current_app.testing:
        ensure_revalidator(current_app._get_current_object())  # type: ignore[attr-defined]


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    _principals.pop(request.sid, None)  # type: ignore[attr-defined]
    _credentials.pop(request.sid, None)  # type: ignore[attr-defined]


def _current() -> tuple[Agent | None, frozenset[str]]:
    known = _principals.get(request.sid)  # type: ignore[attr-defined]
    if known is None:
        return None, frozenset()
    agent_id, scopes = known
    agent = db.session.get(Agent, agent_id)
    if agent is None or not agent.is_active:
        return None, frozenset()
    return agent, scopes


def check_room(agent: Agent, scopes: frozenset[str], room: Any, scope: DepartmentScope | None = None) -> Refusal | None:
    """None if the agent may join the room, else why not. `scope`: the agent's, if already computed."""
    if not isinstance(room, str):
        return Refusal("bad_room", "room must be a string such as 'ticket:42'")
    kind, _, raw_id = room.partition(":")
    if room == "supervisors":
        if agent.role in (Role.SUPERVISOR, Role.ADMIN):
            return None
        return Refusal("forbidden", "supervisors only")
    if kind not in {"ticket", "department", "agent"} or not raw_id.isdigit():
        return Refusal("bad_room", f"unknown room {room!r}; use ticket:<id>, department:<id> or supervisors")
    room_id = int(raw_id)
    if kind == "agent":
        return None if room_id == agent.id else Refusal("forbidden", "only your own agent room")
    if "tickets:read" not in scopes:
        return Refusal("forbidden", "this token lacks the tickets:read scope")
    scope = scope or compute_scope(agent)
    if kind == "ticket":
        visible = db.session.scalar(select(Ticket.id).where(Ticket.id == room_id, visible_tickets_clause(scope)))
        return None if visible is not None else _ticket_not_visible(room_id)
    if scope.all_departments or room_id in scope.visible_department_ids:
        return None
    return Refusal("not_visible", f"department {room_id} is not visible to you")


def _ticket_not_visible(ticket_id: int) -> Refusal:
    return Refusal("not_visible", f"ticket {ticket_id} is not visible to you")


def event_message(event: OutboxEvent) -> dict[str, Any]:
    """The shape of one event on the wire, live ("event") and in catch-up alike."""
    return {"seq": event.id, "type": event.event_type, "data": event.payload, "at": event.created_at.isoformat()}


def catch_up(last_seq: int, rooms: set[str]) -> tuple[list[dict[str, Any]], bool]:
    """Events after last_seq addressed to any of rooms, in order; truncated when the client must reload."""
    oldest = db.session.scalar(select(func.min(OutboxEvent.id)))
    if oldest is not None and oldest > last_seq + 1:
        # Events after last_seq may have been pruned (or never existed: a gap); reloading is safe.
        return [], True
    upper = last_seq + _MAX_SEQ_SPAN
    # An index range per room on ix_outbox_event_rooms_room; an event in two of the rooms counts once.
    seqs = (
        select(OutboxEventRoom.event_id)
        .where(OutboxEventRoom.room.in_(sorted(rooms)), OutboxEventRoom.event_id > last_seq, OutboxEventRoom.event_id <= upper)
        .distinct()
        .order_by(OutboxEventRoom.event_id)
        .limit(MAX_CATCH_UP + 1)
    )
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(seqs)).order_by(OutboxEvent.id)).all()
    found = [event_message(event) for event in events[:MAX_CATCH_UP]]
    if len(events) > MAX_CATCH_UP:
        return found, True
    head = db.session.scalar(select(func.max(OutboxEvent.id))) or 0
    return found, head > upper


# --- the access re-check (module docstring), amortised over the period ---------------------------

# Sockets still to re-check in this round, oldest first; refilled from _principals when it runs dry.
# A socket that connects mid-round is queued too, so it waits at most one period like the others.
_pending: deque[str] = deque()
# Per agent: the inputs of its scope at its last re-check, and that scope. An agent whose inputs
# are unchanged keeps its scope; compute_scope (a tree load per agent) runs only on a change.
_checked: dict[int, tuple[tuple[Any, ...], DepartmentScope]] = {}
# The department tree's shape as scopes read it (id, parent, kind), and a number bumped when it changes.
_tree: tuple[tuple[Any, ...], int] = ((), 0)
_RECHECK_CHUNK = 100  # agents per ticket-visibility statement (SQLite allows 500 compound selects)


@dataclass
class RecheckStats:
    sids: list[str] = field(default_factory=list)  # the sockets re-checked
    agents: int = 0
    scopes_computed: int = 0
    rooms_left: int = 0
    dropped: int = 0


def _tree_generation() -> int:
    """The tree generation; one query over the departments."""
    global _tree
    rows = tuple(
        sorted((r.id, r.parent_id, str(r.kind)) for r in db.session.execute(select(Department.id, Department.parent_id, Department.kind)))
    )
    if rows != _tree[0]:
        _tree = (rows, _tree[1] + 1)
    return _tree[1]


def _next_slice(count: int) -> list[str]:
    """Up to `count` connected sockets, round-robin; a new round starts at most once per tick."""
    chosen: list[str] = []
    refilled = False
    while len(chosen) < count:
        if not _pending:
            if refilled or not _principals:
                break
            _pending.extend(_principals)
            refilled = True
            connected = {agent_id for agent_id, _ in _principals.values()}
            for agent_id in _checked.keys() - connected:
                del _checked[agent_id]
        sid = _pending.popleft()
        if sid in _principals and sid not in chosen:
            chosen.append(sid)
    return chosen


def recheck_slice(count: int) -> RecheckStats:
    """Re-check the rooms of the next `count` sockets; what one tick of the re-check does."""
    server = socketio.server
    stats = RecheckStats()
    by_agent: dict[int, list[str]] = {}
    for sid in _next_slice(count):
        by_agent.setdefault(_principals[sid][0], []).append(sid)
    if not by_agent:
        return stats
    stats.agents = len(by_agent)
    generation = _tree_generation()
    # Fresh rows, memberships with them (not their departments): the session may hold older copies.
    query = (
        select(Agent)
        .where(Agent.id.in_(by_agent))
        .options(selectinload(Agent.memberships).lazyload(DepartmentMembership.department))
        .execution_options(populate_existing=True)
    )
    agents = {agent.id: agent for agent in db.session.scalars(query)}
    stats.dropped += _drop_dead_credentials(server, by_agent, agents)
    rooms_of = _rooms_of(server, {sid for sids in by_agent.values() for sid in sids})
    refusals: list[tuple[str, str, Refusal]] = []
    ticket_rooms: dict[int, tuple[DepartmentScope, list[tuple[str, str, int]]]] = {}  # agent -> (scope, [(sid, room, ticket)])
    for agent_id, sids in by_agent.items():
        agent = agents.get(agent_id)
        if agent is None or not agent.is_active:
            # Every socket of the agent in this process, not only this slice's.
            for sid in [s for s, (a, _) in list(_principals.items()) if a == agent_id]:
                log.info("realtime: disconnecting socket %s of inactive agent %s", sid, agent_id)
                server.disconnect(sid, namespace="/")
                stats.dropped += 1
            _checked.pop(agent_id, None)
            continue
        version = (agent.role, frozenset(agent.department_ids), generation)
        known = _checked.get(agent_id)
        if known is not None and known[0] == version:
            scope = known[1]
        else:
            scope = compute_scope(agent)
            _checked[agent_id] = (version, scope)
            stats.scopes_computed += 1
        for sid in sids:
            if sid not in _principals:
                continue  # gone while this tick yielded
            token_scopes = _principals[sid][1]
            stats.sids.append(sid)
            for room in rooms_of.get(sid, ()):
                kind, _, raw_id = room.partition(":")
                if kind == "ticket" and raw_id.isdigit() and "tickets:read" in token_scopes:
                    ticket_rooms.setdefault(agent_id, (scope, []))[1].append((sid, room, int(raw_id)))
                    continue
                refusal = check_room(agent, token_scopes, room, scope)  # in memory: scope, role, token scopes
                if refusal is not None:
                    refusals.append((sid, room, refusal))
        # Let emits through between agents: a tick must not hold the (single-threaded) gevent worker.
        socketio.sleep(0)
    if stats.scopes_computed and _tree_generation() != generation:
        # compute_scope read the tree itself, maybe a newer one than `generation`: forget those scopes.
        for agent_id in list(_checked):
            if _checked[agent_id][0][2] == generation:
                del _checked[agent_id]
    refusals += _invisible_ticket_rooms(ticket_rooms)
    for sid, room, refusal in refusals:
        server.leave_room(sid, room, namespace="/")
        server.emit("room_revoked", {"room": room, "code": refusal.code, "detail": refusal.detail}, to=sid, namespace="/")
        stats.rooms_left += 1
    return stats


def _drop_dead_credentials(server: Any, by_agent: dict[int, list[str]], agents: dict[int, Agent]) -> int:
    """Disconnect the slice's sockets whose token was revoked or expired, or whose session ended
    (logout everywhere, password change: the agent's session generation moved on). One query."""
    token_ids = {_credentials[sid][1] for sids in by_agent.values() for sid in sids if _credentials.get(sid, ("", 0))[0] == "token"}
    now = utcnow()
    live_tokens = (
        set(
            db.session.scalars(
                select(ApiToken.id).where(
                    ApiToken.id.in_(token_ids),
                    ApiToken.revoked_at.is_(None),
                    (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
                )
            )
        )
        if token_ids
        else set()
    )
    dropped = 0
    for agent_id, sids in by_agent.items():
        agent = agents.get(agent_id)
        for sid in list(sids):
            kind, value = _credentials.get(sid, ("", 0))
            dead = (kind == "token" and value not in live_tokens) or (
                kind == "session" and agent is not None and agent.session_generation != value
            )
            if dead:
                log.info("realtime: disconnecting socket %s of agent %s: its %s ended", sid, agent_id, kind)
                server.disconnect(sid, namespace="/")
                sids.remove(sid)
                dropped += 1
    return dropped


def _rooms_of(server: Any, sids: set[str]) -> dict[str, list[str]]:
    """The rooms of these sockets, their own room aside, in one walk over the namespace's rooms.

    server.rooms(sid) walks every room of the namespace for one socket, and each socket has a room
    of its own: asked socket by socket, a pass over n sockets costs n^2 (about 3 ms a socket at 2,000).
    """
    found: dict[str, list[str]] = {}
    for room, members in server.manager.rooms.get("/", {}).items():
        if room is None or room in sids:
            continue  # the namespace's everyone-room and the sockets' own rooms
        inside = [sid for sid in sids if sid in members] if len(sids) < len(members) else [sid for sid in members if sid in sids]
        for sid in inside:
            found.setdefault(sid, []).append(room)
    return found


def _invisible_ticket_rooms(
    ticket_rooms: dict[int, tuple[DepartmentScope, list[tuple[str, str, int]]]],
) -> list[tuple[str, str, Refusal]]:
    """The joined ticket rooms whose ticket the agent may no longer see: one statement per chunk of agents."""
    refusals = []
    agent_ids = list(ticket_rooms)
    for start in range(0, len(agent_ids), _RECHECK_CHUNK):
        chunk = agent_ids[start : start + _RECHECK_CHUNK]
        parts = [
            select(literal(agent_id).label("agent_id"), Ticket.id.label("ticket_id")).where(
                Ticket.id.in_({ticket for _, _, ticket in ticket_rooms[agent_id][1]}), visible_tickets_clause(ticket_rooms[agent_id][0])
            )
            for agent_id in chunk
        ]
        visible = {(row.agent_id, row.ticket_id) for row in db.session.execute(union_all(*parts) if len(parts) > 1 else parts[0])}
        for agent_id in chunk:
            for sid, room, ticket in ticket_rooms[agent_id][1]:
                if (agent_id, ticket) not in visible:
                    refusals.append((sid, room, _ticket_not_visible(ticket)))
    return refusals


def revalidate_sockets() -> tuple[int, int]:
    """Re-check every socket of this process at once; returns (rooms left, sockets dropped)."""
    stats = recheck_slice(len(_principals))
    return stats.rooms_left, stats.dropped


_revalidator_lock = threading.Lock()
_TICK_SECONDS = 1.0


def slice_size(sockets: int, period: float, tick: float = _TICK_SECONDS) -> int:
    """Sockets per tick so that all of them are re-checked once per period."""
    return math.ceil(sockets * min(tick, period) / period)


def _run_revalidator(app: Flask) -> None:
    """Every tick, re-check ceil(sockets * tick / period) sockets: each is re-checked once per period."""
    period = float(app.config["SERVICE_HUB"].realtime_revalidate_seconds)
    tick = min(_TICK_SECONDS, period)
    due = time.monotonic()
    while True:
        # On a schedule, not "sleep after the work": a slow tick must not stretch the period.
        due = max(due + tick, time.monotonic())
        # Clamped: the clock moves on between the two readings, and a negative sleep raises and would
        # end this loop for the life of the process (no re-check at all after that).
        socketio.sleep(max(0.0, due - time.monotonic()))
        try:
            with app.app_context():
                try:
                    stats = recheck_slice(slice_size(len(_principals), period, tick))
                finally:
                    db.session.remove()
            if stats.rooms_left or stats.dropped:
                log.info("realtime: access re-checked; %s rooms left, %s sockets disconnected", stats.rooms_left, stats.dropped)
        except Exception:
            log.exception("realtime: re-checking room access failed; retrying")


def ensure_revalidator(app: Flask) -> None:
    """One re-checking task per web process, started with its first socket."""
    with _revalidator_lock:
        if app.extensions.get("service_hub.room_revalidator"):
            return
        app.extensions["service_hub.room_revalidator"] = True
    socketio.start_background_task(_run_revalidator, app)


@socketio.on("join")
def on_join(data: Any = None) -> dict[str, Any]:
    agent, scopes = _current()
    if agent is None:
        return Refusal("unauthenticated", "your account is no longer active").as_ack()
    room = data.get("room") if isinstance(data, dict) else None
    refusal = check_room(agent, scopes, room)
    if refusal is not None:
        return refusal.as_ack()
    join_room(room)
    return {"ok": True}


@socketio.on("leave")
def on_leave(data: Any = None) -> dict[str, Any]:
    room = data.get("room") if isinstance(data, dict) else None
    if not isinstance(room, str):
        return Refusal("bad_room", "room must be a string such as 'ticket:42'").as_ack()
    leave_room(room)
    return {"ok": True}


@socketio.on("resume")
def on_resume(data: Any = None) -> dict[str, Any]:
    agent, scopes = _current()
    if agent is None:
        return Refusal("unauthenticated", "your account is no longer active").as_ack()
    data = data if isinstance(data, dict) else {}
    last_seq, wanted = data.get("last_seq"), data.get("rooms") or []
    if (last_seq is not None and (not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0)) or not isinstance(
        wanted, list
    ):
        return Refusal("bad_request", "send {last_seq: <int or null>, rooms: [<room>, ...]}").as_ack()
    if len(wanted) > MAX_RESUME_ROOMS:
        return Refusal("bad_request", f"at most {MAX_RESUME_ROOMS} rooms").as_ack()
    joined, refused = [], []
    for room in dict.fromkeys(r for r in wanted if isinstance(r, str)):
        refusal = check_room(agent, scopes, room)
        if refusal is None:
            join_room(room)  # join before reading: anything committed later arrives live
            joined.append(room)
        else:
            refused.append({"room": room, "code": refusal.code, "detail": refusal.detail})
    joined_all = set(joined) | {f"agent:{agent.id}"}
    head = db.session.scalar(select(func.max(OutboxEvent.id))) or 0
    events, truncated = ([], False) if last_seq is None else catch_up(last_seq, joined_all)
    return {"ok": True, "joined": joined, "refused": refused, "events": events, "truncated": truncated, "head": head}
