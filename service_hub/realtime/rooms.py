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

Access is re-checked after the join as well (RELIABILITY.md, Access): every
settings.realtime_revalidate_seconds each web process re-checks every room of each of its own
sockets with check_room. A socket leaves the rooms it may no longer join (removed from the
department, invitation revoked, token scope) and is told with
  room_revoked {room, code, detail}
and the sockets of a deactivated or deleted agent are disconnected. Until that pass runs, a socket
can still receive a revoked room's events: the delay is at most that interval.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import join_room, leave_room
from sqlalchemy import func, select

from service_hub.auth.scope import DepartmentScope, compute_scope
from service_hub.core.extensions import db, socketio
from service_hub.core.outbox import OutboxEvent, OutboxEventRoom
from service_hub.org.models import Agent, Role
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


def remember_principal(agent_id: int, scopes: frozenset[str]) -> None:
    """Called on connect."""
    _principals[request.sid] = (agent_id, frozenset(scopes))  # type: ignore[attr-defined]
    if not current_app.testing:
        ensure_revalidator(current_app._get_current_object())  # type: ignore[attr-defined]


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    _principals.pop(request.sid, None)  # type: ignore[attr-defined]


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
        return None if visible is not None else Refusal("not_visible", f"ticket {room_id} is not visible to you")
    if scope.all_departments or room_id in scope.visible_department_ids:
        return None
    return Refusal("not_visible", f"department {room_id} is not visible to you")


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


def revalidate_sockets() -> tuple[int, int]:
    """Re-check the rooms of this process's sockets (module docstring); returns (rooms left, sockets dropped)."""
    server = socketio.server
    known = list(_principals.items())
    agents = {a.id: a for a in db.session.scalars(select(Agent).where(Agent.id.in_({agent_id for _, (agent_id, _) in known})))}
    scopes_of: dict[int, DepartmentScope] = {}
    verdicts: dict[tuple[int, frozenset[str], str], Refusal | None] = {}
    left = dropped = 0
    for sid, (agent_id, token_scopes) in known:
        agent = agents.get(agent_id)
        if agent is None or not agent.is_active:
            log.info("realtime: disconnecting socket %s of inactive agent %s", sid, agent_id)
            server.disconnect(sid, namespace="/")
            dropped += 1
            continue
        for room in server.rooms(sid, namespace="/"):
            if room == sid:
                continue  # every socket's own room
            key = (agent_id, token_scopes, room)
            if key not in verdicts:
                if agent_id not in scopes_of:
                    scopes_of[agent_id] = compute_scope(agent)
                    # Let emits through between agents: a pass over thousands of sockets must not
                    # hold the (single-threaded) gevent worker for its whole length.
                    socketio.sleep(0)
                verdicts[key] = check_room(agent, token_scopes, room, scopes_of[agent_id])
            refusal = verdicts[key]
            if refusal is not None:
                server.leave_room(sid, room, namespace="/")
                server.emit("room_revoked", {"room": room, "code": refusal.code, "detail": refusal.detail}, to=sid, namespace="/")
                left += 1
    return left, dropped


_revalidator_lock = threading.Lock()


def _run_revalidator(app: Flask) -> None:
    interval = float(app.config["SERVICE_HUB"].realtime_revalidate_seconds)
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                try:
                    left, dropped = revalidate_sockets()
                finally:
                    db.session.remove()
            if left or dropped:
                log.info("realtime: access re-checked; %s rooms left, %s sockets disconnected", left, dropped)
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
