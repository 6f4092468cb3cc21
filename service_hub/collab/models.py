"""Notifications: one row per recipient agent, read or unread; and the index the case timeline reads."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.core.extensions import db
from service_hub.core.types import BigIntPK, UTCDateTime, str_enum, utcnow
from service_hub.tickets.models import AuditEvent


class NotificationKind(enum.StrEnum):
    MENTION = "mention"  # named in an internal note, directly or through a department
    ASSIGNED = "assigned"  # reserved: a ticket was assigned to the recipient
    INVITED = "invited"  # reserved: the recipient's department was invited onto a case


_UNREAD = text("read_at IS NULL")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # A note names an agent once however often (and through however many departments) it
        # mentions them. NULL message ids (kinds without a note) are distinct, as SQL wants.
        UniqueConstraint("recipient_id", "kind", "message_id"),
        # My notifications, newest first, in keyset pages.
        Index("ix_notifications_recipient", "recipient_id", "id"),
        # The unread badge is a COUNT over this partial index: only unread rows are in it.
        Index("ix_notifications_unread", "recipient_id", "id", postgresql_where=_UNREAD, sqlite_where=_UNREAD),
        Index("ix_notifications_ticket", "ticket_id"),
        Index("ix_notifications_message", "message_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, length=16))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    # The mentioned department that reached the recipient; NULL when they were named themselves.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The timeline reads a ticket's workflow steps in time order: one range scan, page 1 or page 100.
# Declared here, next to the feature that needs it, on the audit table of tickets/.
Index("ix_audit_events_ticket_time", AuditEvent.ticket_id, AuditEvent.created_at, AuditEvent.id)
