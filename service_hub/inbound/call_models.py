"""The call record: one row per call, built up from its CTI or Twilio events in any order."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.core.extensions import db
from service_hub.core.types import JSONDocument, UTCDateTime, str_enum, utcnow


class CallStatus(enum.StrEnum):
    # Declaration order is the inbound forward-only order (voice._advance); an outbound call-back's
    # status is recomputed from its facts instead (callback.py).
    DIALING = "dialing"  # a call-back requested, Twilio not yet ringing anyone
    RINGING = "ringing"
    IN_IVR = "in_ivr"
    QUEUED = "queued"
    ANSWERED = "answered"
    COMPLETED = "completed"  # answered, then ended
    MISSED = "missed"  # ended without an answer
    VOICEMAIL = "voicemail"
    FAILED = "failed"  # a call-back the provider refused or could not place (error says why)


# A call-back's provider_call_id until Twilio answers with the CallSid (unique per record).
PENDING_PREFIX = "pending:"


class CallRecord(db.Model):
    __tablename__ = "call_records"
    __table_args__ = (
        UniqueConstraint("account_id", "provider_call_id"),
        Index("ix_call_records_ticket", "ticket_id", "id"),
        Index("ix_call_records_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="RESTRICT"))
    provider_call_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    from_number: Mapped[str | None] = mapped_column(String(64))
    to_number: Mapped[str | None] = mapped_column(String(64))
    # The caller's IVR choices in order, e.g. ["language:zh", "department:billing"].
    ivr_path: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    queue: Mapped[str | None] = mapped_column(String(64))
    ringing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wait_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    recording_url: Mapped[str | None] = mapped_column(String(2000))
    voicemail_url: Mapped[str | None] = mapped_column(String(2000))
    transcript: Mapped[str | None] = mapped_column(Text)
    end_cause: Mapped[str | None] = mapped_column(String(32))
    # Why a call-back failed, in the provider's words (e.g. "Twilio answered 400 (error 21217: ...)").
    error: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[CallStatus] = mapped_column(str_enum(CallStatus, 16), default=CallStatus.RINGING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def as_dict(self) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "call_id": None if self.provider_call_id.startswith(PENDING_PREFIX) else self.provider_call_id,
            "status": self.status.value,
            "direction": self.direction,
            "from": self.from_number,
            "to": self.to_number,
            "ivr_path": list(self.ivr_path or []),
            "queue": self.queue,
            "ringing_at": iso(self.ringing_at),
            "queued_at": iso(self.queued_at),
            "answered_at": iso(self.answered_at),
            "ended_at": iso(self.ended_at),
            "wait_seconds": self.wait_seconds,
            "talk_seconds": self.talk_seconds,
            "agent_id": self.agent_id,
            "recording_url": self.recording_url,
            "voicemail_url": self.voicemail_url,
            "transcript": self.transcript,
            "end_cause": self.end_cause,
            "error": self.error,
        }
