"""The email family's tables: which ticket each Message-ID belongs to, and where each IMAP folder was left."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.core.extensions import db
from service_hub.core.types import BigIntPK, UTCDateTime, utcnow


class EmailMessageId(db.Model):
    """A Message-ID we received or sent, and its ticket: replies thread by In-Reply-To/References through it."""

    __tablename__ = "email_message_ids"
    __table_args__ = (UniqueConstraint("account_id", "message_id"), Index("ix_email_message_ids_ticket", "ticket_id", "id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(255))  # without angle brackets
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    ticket_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    outbound: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImapFolderState(db.Model):
    """UIDVALIDITY and the highest UID taken from one folder of one account: the poller resumes here."""

    __tablename__ = "imap_folder_states"

    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True)
    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
