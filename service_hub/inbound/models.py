"""Channel accounts, the durable inbox's raw records, outbound deliveries, conversations, opt-outs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from channels.base import HookKind
from service_hub.core.extensions import db
from service_hub.core.types import BigIntPK, JSONDocument, UTCDateTime, str_enum, utcnow


class RecordStatus(enum.StrEnum):
    RECEIVED = "received"  # stored and acknowledged, not processed yet
    FAILED = "failed"  # an attempt failed; the sweeper retries it at next_attempt_at
    PROCESSED = "processed"
    DEAD = "dead"  # dead-lettered: permanent error or out of attempts; an admin may replay it


class OutboundStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting to be sent (first time or a retry at next_attempt_at)
    SENDING = "sending"  # handed to the provider; a crash here leaves it for the sweeper
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class ChannelAccount(db.Model):
    """One provider account (an SMS number, a mailbox, an official account) and where its contacts go."""

    __tablename__ = "channel_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # a channels.registry kind, e.g. "sms.twilio"
    name: Mapped[str] = mapped_column(String(120))
    # The unguessable public key in webhook URLs (/hooks/sms/twilio/<slug>).
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    # Fernet token of the JSON credentials (see credential_vault); never returned by the API.
    credentials_encrypted: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    default_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboundRecord(db.Model):
    """One webhook, mail or call event exactly as it arrived; committed before it is acknowledged."""

    __tablename__ = "inbound_records"
    __table_args__ = (
        # The durable inbox's idempotency: a redelivered webhook finds its twin and creates nothing.
        UniqueConstraint("account_id", "provider_message_id"),
        Index("ix_inbound_records_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="RESTRICT"))
    provider_message_id: Mapped[str] = mapped_column(String(160))
    kind: Mapped[HookKind] = mapped_column(str_enum(HookKind, 16))
    url: Mapped[str] = mapped_column(String(2000))
    headers: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[RecordStatus] = mapped_column(str_enum(RecordStatus, 16), default=RecordStatus.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))

    account: Mapped[ChannelAccount] = relationship()


class ChannelConversation(db.Model):
    """Which account and address a ticket talks through: threading in, replies out."""

    __tablename__ = "channel_conversations"
    __table_args__ = (Index("ix_channel_conversations_address", "account_id", "address", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="RESTRICT"))
    address: Mapped[str] = mapped_column(String(320))  # the customer's end: an E.164 number, an address
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("contact_identities.id", ondelete="SET NULL"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[ChannelAccount] = relationship()


class OutboundDelivery(db.Model):
    """One message on its way out through a channel account, and what the provider says of it."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        Index("ix_outbound_deliveries_provider", "account_id", "provider_message_id"),
        Index("ix_outbound_deliveries_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="RESTRICT"))
    # None for an admin's test message, which belongs to no ticket.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[OutboundStatus] = mapped_column(str_enum(OutboundStatus, 16), default=OutboundStatus.QUEUED)
    provider_message_id: Mapped[str | None] = mapped_column(String(160))
    provider_status: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    account: Mapped[ChannelAccount] = relationship()


class IdentityOptOut(db.Model):
    """A contact identity that asked not to be messaged on a channel family (STOP, 退订).

    A row means opted out; START deletes it. Kept apart from contact_identities so consent has
    its own history fields without widening the identity table every lookup reads.
    """

    __tablename__ = "identity_opt_outs"

    identity_id: Mapped[int] = mapped_column(ForeignKey("contact_identities.id", ondelete="CASCADE"), primary_key=True)
    family: Mapped[str] = mapped_column(String(16), primary_key=True)  # "sms", "whatsapp", ...
    keyword: Mapped[str] = mapped_column(String(32))
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_records.id", ondelete="SET NULL"))
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
