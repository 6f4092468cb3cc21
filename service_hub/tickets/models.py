"""Ticket, Message, Attachment, AuditEvent and the department invitations that widen access."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service_hub.core.extensions import db
from service_hub.core.keyset import Sort, SortKey
from service_hub.core.types import BigIntPK, IntEnumType, JSONDocument, UTCDateTime, str_enum, utcnow
from service_hub.customers.models import Customer, Tier
from service_hub.org.models import Agent, Department


class TicketStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # awaiting the customer: SLA paused
    ON_HOLD = "on_hold"  # awaiting a third party: SLA paused
    SOLVED = "solved"
    CLOSED = "closed"


# The statuses an inbox calls "open work"; a partial index serves exactly this set.
ACTIVE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)


class Priority(enum.IntEnum):
    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4


class Channel(enum.StrEnum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    WECHAT = "wechat"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    WEB = "web"
    API = "api"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"  # internal note, never sent to the customer


class DeliveryStatus(enum.StrEnum):
    NONE = "none"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer", "customer_id", "created_at"),
        Index("ix_tickets_department_created", "department_id", "created_at", "id"),
        # "What breaches in the next N minutes" is one range scan. The inbox indexes follow the class.
        Index("ix_tickets_next_due_at", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus), default=TicketStatus.NEW)
    priority: Mapped[Priority] = mapped_column(IntEnumType(Priority), default=Priority.NORMAL)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    tier: Mapped[Tier] = mapped_column(str_enum(Tier), default=Tier.NORMAL)  # snapshot at creation
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The nearest running SLA deadline: inbox order and breach scans use it.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    department: Mapped[Department] = relationship()
    assignee: Mapped[Agent | None] = relationship()
    tag_rows: Mapped[list[TicketTag]] = relationship(cascade="all, delete-orphan", lazy="selectin", order_by="TicketTag.tag")

    # Optimistic locking: every UPDATE checks the version it read; a lost race raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    def set_status(self, status: TicketStatus, now: datetime) -> None:
        """Move to a status and keep solved_at and closed_at in step with it."""
        self.status = status
        if status == TicketStatus.SOLVED:
            self.solved_at = now
        elif status == TicketStatus.CLOSED:
            self.closed_at = now
            self.solved_at = self.solved_at or now
        else:
            self.solved_at = None  # reopened


# The inbox order: most urgent first, then the nearest deadline, none last (see core.keyset).
INBOX_ORDER = Sort((SortKey(Ticket.priority, inverted=True), SortKey(Ticket.next_due_at, kind=datetime, nullable=True), SortKey(Ticket.id)))
_ACTIVE = text("status IN ('new', 'open', 'pending', 'on_hold')")
# A department's tickets of one status, and its open work (a partial index on the active set),
# and an agent's own queue: each a single range scan in INBOX_ORDER, page 1 or page 10,000.
Index("ix_tickets_inbox", Ticket.department_id, Ticket.status, *INBOX_ORDER.order_by())
Index("ix_tickets_inbox_active", Ticket.department_id, *INBOX_ORDER.order_by(), postgresql_where=_ACTIVE, sqlite_where=_ACTIVE)
Index("ix_tickets_assignee", Ticket.assignee_id, Ticket.status, *INBOX_ORDER.order_by())


class TicketTag(db.Model):
    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class TicketInvitation(db.Model):
    """Another department invited onto a case: its members may see the case while it stands."""

    __tablename__ = "ticket_invitations"
    __table_args__ = (Index("ix_ticket_invitations_department", "department_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_ticket", "ticket_id", "created_at", "id"),
        Index("ix_messages_provider", "channel", "provider_message_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    author_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)  # sanitised before it is stored
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    delivery_status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.NONE)
    delivery_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    author_agent: Mapped[Agent | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message", lazy="selectin", order_by="Attachment.id")


class AttachmentStatus(enum.StrEnum):
    STORED = "stored"
    # Inbound media that did not arrive (issue 3): a placeholder the agent sees, with the reason in note.
    TOO_LARGE = "too_large"
    FAILED = "failed"


class Attachment(db.Model):
    """Metadata of a file kept outside the database, content-addressed by its SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[AttachmentStatus] = mapped_column(
        str_enum(AttachmentStatus, 16), default=AttachmentStatus.STORED, server_default=AttachmentStatus.STORED.value
    )
    # Why a placeholder is empty, or that the content is not what the sender declared (and how it is stored).
    note: Mapped[str | None] = mapped_column(String(500))

    message: Mapped[Message | None] = relationship(back_populates="attachments")


class AuditEvent(db.Model):
    """Append-only: who did what to which ticket or customer, when, before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_ticket", "ticket_id", "id"),
        Index("ix_audit_events_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    actor_via: Mapped[str] = mapped_column(String(16), default="system")  # session, token, system
    action: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise RuntimeError(f"audit event {target.id} is append-only")


class Counter(db.Model):
    """Named counters handed out under a row lock (ticket numbers), portable across databases."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
