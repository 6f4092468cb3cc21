"""Login and API token use cases."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select

from service_hub.auth.models import ApiToken
from service_hub.auth.passwords import hash_password, needs_rehash, verify_password
from service_hub.auth.principal import hash_token
from service_hub.core.errors import NotFound
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.org.models import Agent

TOKEN_PREFIX = "shub_"  # noqa: S105  (a visible prefix lets secret scanners spot leaked tokens)


def check_credentials(email: str, password: str) -> Agent | None:
    agent = db.session.scalars(select(Agent).where(func.lower(Agent.email) == email.strip().lower())).first()
    if not verify_password(agent.password_hash if agent else None, password) or agent is None or not agent.is_active:
        return None
    if agent.password_hash and needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
    agent.last_login_at = utcnow()
    db.session.commit()
    return agent


def create_token(agent: Agent, name: str, scopes: list[str], expires_in_days: int | None) -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        agent_id=agent.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:12],
        scopes=sorted(set(scopes)),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    db.session.commit()
    return token, secret


def revoke_token(agent: Agent, token_id: int, *, any_owner: bool) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.agent_id != agent.id and not any_owner):
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token
