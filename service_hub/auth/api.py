"""/api/v1/auth and /api/v1/me: log in and out, who am I, API tokens."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, session
from flask.views import MethodView
from flask_login import login_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from service_hub.auth import operations
from service_hub.auth.models import ApiToken
from service_hub.auth.principal import Principal, current_principal, require
from service_hub.auth.schemas import CsrfSchema, LoginSchema, MeSchema, NewTokenSchema, TokenCreateSchema, TokenSchema
from service_hub.core.errors import Forbidden, Problem
from service_hub.core.extensions import csrf, db, limiter
from service_hub.org.models import Role

blp = Blueprint("Auth", __name__, url_prefix="/api/v1", description="Sessions, the current user and API tokens")


def _login_limit() -> str:
    return str(current_app.config["SERVICE_HUB"].login_rate_limit)


def _login_email_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "login:" + (email.strip().lower() if isinstance(email, str) else "-")


def _me(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    principal = current_principal()
    agent = principal.agent
    body = {
        "id": agent.id,
        "email": agent.email,
        "name": agent.name,
        "role": agent.role.value,
        "presence": agent.presence.value,
        "languages": agent.languages,
        "skills": agent.skills,
        "memberships": agent.memberships,
        "authenticated_via": principal.via,
        "scopes": sorted(principal.scopes),
    }
    if principal.via == "session":
        body["csrf_token"] = generate_csrf()
    return body | (extra or {})


@blp.route("/auth/csrf")
class CsrfToken(MethodView):
    @blp.response(200, CsrfSchema)
    def get(self) -> dict[str, str]:
        """A CSRF token for this browser session; send it as X-CSRFToken on every change."""
        return {"csrf_token": generate_csrf()}


@blp.route("/auth/login")
class Login(MethodView):
    # Per client address and per account, so a botnet cannot spray one account either.
    decorators = [limiter.limit(_login_limit, methods=["POST"]), limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key)]

    @blp.arguments(LoginSchema)
    @blp.response(200, MeSchema)
    def post(self, credentials: dict[str, str]) -> dict[str, Any]:
        """Log in with email and password; sets an HttpOnly session cookie."""
        csrf.protect()
        agent = operations.check_credentials(credentials["email"], credentials["password"])
        if agent is None:
            raise Problem("Wrong email or password.", status=401, code="invalid-credentials", title="Login failed")
        session.clear()  # no session fixation: a fresh session for the new identity
        g.pop("csrf_token", None)  # and a fresh CSRF token bound to it
        login_user(agent)
        g.principal = Principal(agent=agent, via="session")
        return _me()


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self) -> None:
        """End this browser session."""
        logout_user()
        session.clear()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> dict[str, Any]:
        """The current user, their departments and (for a session) a CSRF token."""
        return _me()


@blp.route("/me/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenSchema(many=True))
    def get(self) -> list[ApiToken]:
        """My API tokens (admins see everyone's)."""
        agent = current_principal().agent
        query = select(ApiToken).order_by(ApiToken.id)
        if agent.role != Role.ADMIN:
            query = query.where(ApiToken.agent_id == agent.id)
        return list(db.session.scalars(query))

    @require(None, session_only=True)
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, NewTokenSchema)
    def post(self, data: dict[str, Any]) -> ApiToken:
        """Create an API token for an integration acting as me; the secret is shown once."""
        agent = current_principal().agent
        if "admin" in data["scopes"] and agent.role != Role.ADMIN:
            raise Forbidden("Only admins may create tokens with the 'admin' scope.")
        token, secret = operations.create_token(agent, data["name"], data["scopes"], data["expires_in_days"])
        token.secret = secret  # type: ignore[attr-defined]  (shown once, never stored)
        return token


@blp.route("/me/tokens/<int:token_id>")
class TokenItem(MethodView):
    @blp.response(200, TokenSchema)
    def delete(self, token_id: int) -> ApiToken:
        """Revoke a token; it stops working at once."""
        agent = current_principal().agent
        return operations.revoke_token(agent, token_id, any_owner=agent.role == Role.ADMIN)
