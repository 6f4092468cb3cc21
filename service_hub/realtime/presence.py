"""Presence on Socket.IO: who views or types on a ticket, typing collisions, and agents' state following their sockets.

Events from the client, each answered by an ack ({ok: false, code, detail} when refused):
  viewing         {ticket_id} -> {ok, ticket_id, viewers, typing}   also the viewer's heartbeat
  stopped_viewing {ticket_id} -> {ok}
  typing          {ticket_id} -> {ok, ticket_id, viewers, typing}   re-sent every few seconds while typing
  stopped_typing  {ticket_id} -> {ok}
  presence_state  {ticket_id} -> {ok, ticket_id, viewers, typing}   the current state, e.g. after a reconnect
  away / back     {}          -> {ok, presence, assigned_ticket_ids}  the agent's own state, as PATCH /me/presence
Only an agent who may join room ticket:<id> (rooms.check_room) may announce on or read a ticket.

From the server:
  presence  {ticket_id, viewers: [{agent_id, name}], typing: [..]}  to room ticket:<id> when the set changes
  collision {ticket_id, typing: [{agent_id, name}, ..]}             to each typist's agent room when a
                                                                     second agent starts typing on a ticket

Presence is ephemeral and deliberately not an outbox event: a viewer list from five minutes ago
is worth nothing to a reconnecting client, and a typing notice every few seconds per agent would
flood the outbox and every catch-up. A client that reconnects asks `presence_state` instead.

Expiry: a typist lapses after settings.presence_typing_seconds without a refresh, a viewer after
VIEWING_SECONDS without a heartbeat or when its socket closes. One sweeper per web process (a
Socket.IO background task, started with the process's first socket; works under `flask serve`
and gunicorn alike) broadcasts lapses and puts agents offline whose last socket (across all
processes: the store counts them) has been closed for settings.presence_offline_grace_seconds.
Going offline goes through casework.assignment.set_presence, so assignment stops offering work and
the agent.presence event is written. Connecting never puts anyone online: availability is a choice.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import join_room
from sqlalchemy import select

from service_hub.auth.principal import Principal
from service_hub.casework.assignment import set_presence
from service_hub.core.extensions import db, socketio
from service_hub.org.models import Agent, Presence
from service_hub.realtime import rooms
from service_hub.realtime.presence_store import TYPING, VIEWING, PresenceStore, TicketPresence, current_store, member

log = logging.getLogger(__name__)

VIEWING_SECONDS = 60.0
SOCKET_SECONDS = 60.0  # a socket entry lapses unless its process refreshes it (every third of this)
SWEEP_SECONDS = 0.5

# This process's sockets and the tickets each announced on, so a disconnect can clear them.
_announced: dict[str, set[int]] = {}
_sweeper_lock = threading.Lock()


def _settings() -> Any:
    return current_app.config["SERVICE_HUB"]


def _names(agent_ids: set[int]) -> dict[int, str]:
    if not agent_ids:
        return {}
    return dict(db.session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(agent_ids))).all())


def presence_message(ticket_id: int, state: TicketPresence) -> dict[str, Any]:
    names = _names({*state.viewers, *state.typing})
    return {
        "ticket_id": ticket_id,
        "viewers": [{"agent_id": a, "name": names.get(a, "")} for a in state.viewers],
        "typing": [{"agent_id": a, "name": names.get(a, "")} for a in state.typing],
    }


def _broadcast(store: PresenceStore, ticket_id: int) -> dict[str, Any]:
    message = presence_message(ticket_id, store.state(ticket_id, time.time()))
    socketio.emit("presence", message, to=f"ticket:{ticket_id}")
    return message


def _ticket_for(data: Any) -> tuple[Agent, int] | rooms.Refusal:
    agent, scopes = rooms._current()
    if agent is None:
        return rooms.Refusal("unauthenticated", "your account is no longer active")
    ticket_id = data.get("ticket_id") if isinstance(data, dict) else None
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        return rooms.Refusal("bad_request", "send {ticket_id: <int>}")
    refusal = rooms.check_room(agent, scopes, f"ticket:{ticket_id}")
    return refusal if refusal is not None else (agent, ticket_id)


def _announce(kind: str, data: Any) -> dict[str, Any]:
    found = _ticket_for(data)
    if isinstance(found, rooms.Refusal):
        return found.as_ack()
    agent, ticket_id = found
    store, sid = current_store(), request.sid  # type: ignore[attr-defined]
    seconds = VIEWING_SECONDS if kind == VIEWING else float(_settings().presence_typing_seconds)
    join_room(f"ticket:{ticket_id}")  # announcing implies following the ticket's presence
    _announced.setdefault(sid, set()).add(ticket_id)
    if not store.touch(kind, ticket_id, member(agent.id, sid), time.time() + seconds):
        return {"ok": True, **presence_message(ticket_id, store.state(ticket_id, time.time()))}
    message = _broadcast(store, ticket_id)
    if kind == TYPING and len(message["typing"]) > 1:
        # Two people writing to one customer at once: tell each of them who else is.
        for typist in message["typing"]:
            socketio.emit("collision", {"ticket_id": ticket_id, "typing": message["typing"]}, to=f"agent:{typist['agent_id']}")
    return {"ok": True, **message}


def _withdraw(kinds: tuple[str, ...], data: Any) -> dict[str, Any]:
    found = _ticket_for(data)
    if isinstance(found, rooms.Refusal):
        return found.as_ack()
    agent, ticket_id = found
    store = current_store()
    entry = member(agent.id, request.sid)  # type: ignore[attr-defined]
    if any([store.remove(kind, ticket_id, entry) for kind in kinds]):
        _broadcast(store, ticket_id)
    return {"ok": True}


@socketio.on("viewing")
def on_viewing(data: Any = None) -> dict[str, Any]:
    return _announce(VIEWING, data)


@socketio.on("typing")
def on_typing(data: Any = None) -> dict[str, Any]:
    return _announce(TYPING, data)


@socketio.on("stopped_viewing")
def on_stopped_viewing(data: Any = None) -> dict[str, Any]:
    return _withdraw((VIEWING, TYPING), data)


@socketio.on("stopped_typing")
def on_stopped_typing(data: Any = None) -> dict[str, Any]:
    return _withdraw((TYPING,), data)


@socketio.on("presence_state")
def on_presence_state(data: Any = None) -> dict[str, Any]:
    found = _ticket_for(data)
    if isinstance(found, rooms.Refusal):
        return found.as_ack()
    _, ticket_id = found
    return {"ok": True, **presence_message(ticket_id, current_store().state(ticket_id, time.time()))}


def _set_own_presence(presence: Presence) -> dict[str, Any]:
    agent, scopes = rooms._current()
    if agent is None:
        return rooms.Refusal("unauthenticated", "your account is no longer active").as_ack()
    if "tickets:write" not in scopes:
        return rooms.Refusal("forbidden", "this token lacks the tickets:write scope").as_ack()
    return {"ok": True, **set_presence(Principal(agent=agent, via="socket", scopes=scopes), presence)}


@socketio.on("away")
def on_away(data: Any = None) -> dict[str, Any]:
    return _set_own_presence(Presence.AWAY)


@socketio.on("back")
def on_back(data: Any = None) -> dict[str, Any]:
    return _set_own_presence(Presence.ONLINE)


# Socket lifecycle, called from realtime.connections.


def socket_opened(agent_id: int) -> None:
    """A socket of this agent connected: count it. Their stored presence stays as it is."""
    current_store().add_socket(agent_id, request.sid, time.time() + SOCKET_SECONDS)  # type: ignore[attr-defined]
    if not current_app.testing:
        ensure_sweeper(current_app._get_current_object())  # type: ignore[attr-defined]


def socket_closed(agent_id: int) -> None:
    """A socket closed: its viewing and typing end now; at the agent's last socket the grace period starts."""
    store, sid, now = current_store(), request.sid, time.time()  # type: ignore[attr-defined]
    entry = member(agent_id, sid)
    for ticket_id in _announced.pop(sid, set()):
        if any([store.remove(kind, ticket_id, entry) for kind in (VIEWING, TYPING)]):
            _broadcast(store, ticket_id)
    store.remove_socket(agent_id, sid, now)


# The sweeper: one per process; every step is claimed in the store, so processes never double up.


def sweep(app: Flask, store: PresenceStore, now: float) -> tuple[list[int], list[int]]:
    """Broadcast lapsed viewers and typists; put agents gone past the grace offline. Returns (tickets, agents)."""
    changed = [t for t in store.due_tickets(now) if store.prune(t, now) > 0]
    gone = store.gone_agents(now, float(app.config["SERVICE_HUB"].presence_offline_grace_seconds))
    with app.app_context():
        try:
            for ticket_id in changed:
                _broadcast(store, ticket_id)
            for agent_id in gone:
                agent = db.session.get(Agent, agent_id)
                if agent is not None and agent.presence != Presence.OFFLINE:
                    set_presence(Principal(agent=agent, via="system"), Presence.OFFLINE)
                    log.info("agent %s went offline: no socket for the grace period", agent_id)
        finally:
            db.session.remove()
    return changed, gone


def _run_sweeper(app: Flask) -> None:
    with app.app_context():
        store = current_store()
    refreshed = 0.0
    while True:
        try:
            now = time.time()
            if now - refreshed >= SOCKET_SECONDS / 3:
                store.refresh_sockets({sid: agent_id for sid, (agent_id, _) in list(rooms._principals.items())}, now + SOCKET_SECONDS)
                refreshed = now
            sweep(app, store, now)
        except Exception:
            log.exception("presence sweep failed; retrying")
        socketio.sleep(SWEEP_SECONDS)


def ensure_sweeper(app: Flask) -> None:
    with _sweeper_lock:
        if app.extensions.get("service_hub.presence_sweeper"):
            return
        app.extensions["service_hub.presence_sweeper"] = True
    socketio.start_background_task(_run_sweeper, app)
