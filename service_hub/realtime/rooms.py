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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask_socketio import join_room, leave_room
from sqlalchemy import func, select

from service_hub.auth.scope import compute_scope
from service_hub.core.extensions import db, socketio
from service_hub.core.outbox import OutboxEvent
from service_hub.org.models import Agent, Role
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import Ticket

MAX_CATCH_UP = 1000
MAX_RESUME_ROOMS = 200
_SCAN_BATCH = 2000
# Stop scanning after this many outbox rows (events of rooms the client did not ask for included)
# and answer truncated: a client that far behind reloads.
_MAX_SCANNED = 50_000


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


def check_room(agent: Agent, scopes: frozenset[str], room: Any) -> Refusal | None:
    """None if the agent may join the room, else why not."""
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
    scope = compute_scope(agent)
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
    found: list[dict[str, Any]] = []
    after, scanned = last_seq, 0
    while True:
        batch = db.session.scalars(select(OutboxEvent).where(OutboxEvent.id > after).order_by(OutboxEvent.id).limit(_SCAN_BATCH)).all()
        for event in batch:
            if rooms.intersection(event.rooms or ()):
                if len(found) == MAX_CATCH_UP:
                    return found, True
                found.append(event_message(event))
        scanned += len(batch)
        if len(batch) < _SCAN_BATCH:
            return found, False
        if scanned >= _MAX_SCANNED:
            return found, True
        after = batch[-1].id


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
