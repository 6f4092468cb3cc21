"""The outbox: domain events written in the same transaction as the change they describe.

The row id is the event's sequence number. Realtime, webhooks and automation read from here,
so a crash between commit and publish loses nothing (see issue 6 for the publisher).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.core.extensions import db
from service_hub.core.types import BigIntPK, JSONDocument, UTCDateTime, utcnow

# How long a disconnected browser can catch up from the outbox; older clients reload instead.
CATCH_UP_WINDOW = timedelta(days=7)


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    # Rooms the event is for, e.g. ["ticket:42", "department:7"]; access rules decide who joins.
    rooms: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record_event(event_type: str, payload: dict[str, Any], rooms: list[str]) -> OutboxEvent:
    """Add an event to the current transaction; it commits or rolls back with the change."""
    event = OutboxEvent(event_type=event_type, payload=payload, rooms=rooms)
    db.session.add(event)
    return event


def prune_outbox(older_than: timedelta = CATCH_UP_WINDOW) -> int:
    """Delete events past the catch-up window; returns how many went."""
    result = db.session.execute(delete(OutboxEvent).where(OutboxEvent.created_at < utcnow() - older_than))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
