"""Authenticate every request: a browser session (with CSRF) or a bearer API token.

Secure by default: every endpoint needs a principal unless it is listed in PUBLIC_ENDPOINTS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from service_hub.auth.models import ApiToken
from service_hub.core.errors import Forbidden, Problem
from service_hub.core.extensions import csrf, db, login_manager
from service_hub.core.types import utcnow
from service_hub.org.models import Agent, Role

# Endpoints reachable without credentials. Everything else answers 401 to strangers.
PUBLIC_ENDPOINTS = frozenset(
    {
        "health.healthz",
        "health.readyz",
        "Auth.Login",
        "Auth.CsrfToken",
        "frontend.index",
        "frontend.client_route",
        "frontend.asset",
        "static",
    }
    # Provider webhooks (issue 3): the provider's signature is checked in service_hub.inbound.webhooks.
    | {"channel_hooks.message", "channel_hooks.status"}
    | {"voice_hooks.call"}  # issue 3, the hotline: Twilio Voice's IVR webhook (service_hub.inbound.voice_webhooks)
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Scopes an API token may carry; a browser session implicitly has all of them (roles still apply).
SCOPES = (
    "tickets:read",
    "tickets:write",
    "customers:read",
    "customers:write",
    "org:read",
    "value:read",
    "value:write",
    "admin",
    "metrics:read",
)


class Unauthenticated(Problem):
    status, code, title = 401, "unauthenticated", "Authentication required"


@dataclass
class Principal:
    agent: Agent
    via: str  # "session" or "token"
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(SCOPES))
    token_id: int | None = None  # the API token, when via == "token": long-lived sockets re-check it


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@login_manager.user_loader
def _load_user(user_id: str) -> Agent | None:
    agent_id, _, generation = user_id.partition(":")
    if not agent_id.isdigit() or not generation.isdigit():
        return None
    agent = db.session.get(Agent, int(agent_id))
    if agent is None or not agent.is_active or agent.session_generation != int(generation):
        return None
    return agent


def token_principal(header: str) -> Principal:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
    token = db.session.scalars(
        select(ApiToken).options(joinedload(ApiToken.agent)).where(ApiToken.token_hash == hash_token(secret.strip()))
    ).first()
    now = utcnow()
    if (
        token is None
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or not token.agent.is_active
    ):
        raise Unauthenticated("The API token is unknown, expired or revoked.")
    # Write last-use at most once a minute: a hot integration must not turn reads into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
        db.session.commit()
    return Principal(agent=token.agent, via="token", scopes=frozenset(token.scopes), token_id=token.id)


def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return
    header = request.headers.get("Authorization")
    if header:
        g.principal = token_principal(header)
        return
    if not current_user.is_authenticated:
        raise Unauthenticated("Log in or send an API token.")
    g.principal = Principal(agent=cast(Agent, current_user._get_current_object()), via="session")
    if request.method not in SAFE_METHODS:
        # Cookies ride along on cross-site requests; the CSRF token does not.
        csrf.protect()


def init_auth(app: Flask) -> None:
    app.before_request(_authenticate)


def current_principal() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise Unauthenticated("Log in or send an API token.")
    return principal


def current_agent() -> Agent:
    return current_principal().agent


F = TypeVar("F", bound=Callable[..., Any])


def require(scope: str | None, roles: tuple[Role, ...] | None = None, session_only: bool = False) -> Callable[[F], F]:
    """Check the token scope and the role for one endpoint method."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if session_only and principal.via != "session":
                raise Forbidden("This action needs a browser session, not an API token.")
            if scope is not None and scope not in principal.scopes:
                raise Forbidden(f"The API token lacks the scope '{scope}'.")
            if roles is not None and principal.agent.role not in roles:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
