"""The outbox: domain events written in the same transaction as the change they describe.

The row id is the event's sequence number. Realtime, webhooks and automation read from here,
so a crash between commit and publish loses nothing (see issue 6 for the publisher).

Each event's rooms are also rows of outbox_event_rooms, indexed by (room, event_id), so catch-up
asks the database for a room's events. A trigger writes them in the inserting transaction
(migration 0008): writers only insert outbox_events, by record_event() or in bulk.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, delete
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


class OutboxEventRoom(db.Model):
    """One room of one event; written by the database (trigger of migration 0008), read by catch-up."""

    __tablename__ = "outbox_event_rooms"
    __table_args__ = (Index("ix_outbox_event_rooms_room", "room", "event_id"),)

    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("outbox_events.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    room: Mapped[str] = mapped_column(String(128), primary_key=True)


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
