"""Store a verified webhook raw, idempotently, and commit: the durable write before the acknowledgement."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from channels.base import HookKind
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound.models import InboundRecord, RecordStatus
from service_hub.inbound.retry_policy import lease_until

_DROPPED_HEADERS = {"cookie", "authorization", "proxy-authorization"}
MAX_HEADERS = 40


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers worth keeping with the raw body (signatures, idempotency tokens, types), never secrets."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in _DROPPED_HEADERS or len(kept) >= MAX_HEADERS:
            continue
        kept[name[:100]] = value[:1000]
    return kept


def store_raw(account_id: int, kind: HookKind, provider_event_id: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    """Insert the record unless (account, provider id) exists; commit. The new id, or None for a duplicate."""
    now = utcnow()
    values = {
        "account_id": account_id,
        "provider_message_id": provider_event_id[:160],
        "kind": kind,
        "url": url[:2000],
        "headers": kept_headers(headers),
        "body": body,
        "received_at": now,
        "status": RecordStatus.RECEIVED,
        "attempts": 0,
        # If the enqueue after the commit is lost, the sweeper finds the record due at this time.
        "next_attempt_at": lease_until(now, current_app.config["SERVICE_HUB"].channels),
    }
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(InboundRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["account_id", "provider_message_id"])
        .returning(InboundRecord.id)
    )
    new_id = db.session.execute(statement).scalar_one_or_none()
    db.session.commit()
    return new_id


def existing_record_id(account_id: int, provider_event_id: str) -> int | None:
    query = select(InboundRecord.id).where(
        InboundRecord.account_id == account_id, InboundRecord.provider_message_id == provider_event_id[:160]
    )
    return db.session.scalar(query)
