"""Socket.IO connections are authenticated like the API: the browser session or a bearer token."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from service_hub.auth.principal import Principal, Unauthenticated, token_principal
from service_hub.core.extensions import socketio

# presence registers viewing, typing, presence_state, away and back; supervisor_stream supervisor_subscribe.
from service_hub.realtime import presence, rooms, supervisor_stream  # noqa: F401
from service_hub.realtime.rooms import remember_principal  # also registers join, leave and resume


def _principal(auth: Any) -> Principal:
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        return token_principal(f"Bearer {token}")
    if current_user.is_authenticated:
        return Principal(agent=current_user._get_current_object(), via="session")
    raise Unauthenticated("Log in or send an API token.")


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    try:
        principal = _principal(auth)
    except Unauthenticated as exc:
        raise ConnectionRefusedError({"code": "unauthenticated", "detail": exc.detail}) from None
    g.principal = principal
    # What the socket's credential was at connect, so the re-check can end it with the credential:
    # the token (revoked, expired) or the session (logged out everywhere, password changed).
    credential = ("token", principal.token_id) if principal.token_id is not None else ("session", principal.agent.session_generation)
    remember_principal(principal.agent.id, principal.scopes, credential)
    # Everyone has a personal room for notifications addressed to them.
    join_room(f"agent:{principal.agent.id}")
    presence.socket_opened(principal.agent.id)  # counted for going offline later; never puts anyone online


# Replaces rooms.on_disconnect as the one "disconnect" handler (Socket.IO keeps one per event): presence
# must read who the socket was before rooms forgets it.
@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    known = rooms._principals.get(request.sid)  # type: ignore[attr-defined]
    try:
        if known is not None:
            presence.socket_closed(known[0])
    finally:
        rooms.on_disconnect(reason)
