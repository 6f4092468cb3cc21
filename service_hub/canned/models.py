"""CannedResponse: a reply an agent inserts instead of typing it, filled with the ticket's details."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.core.extensions import db
from service_hub.core.types import UTCDateTime, utcnow


class CannedResponse(db.Model):
    __tablename__ = "canned_responses"
    __table_args__ = (Index("ix_canned_responses_department", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    shortcut: Mapped[str | None] = mapped_column(String(41))
    # NULL: global, offered to every agent.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    language: Mapped[str | None] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    # Optimistic locking, as on tickets: an UPDATE from a stale copy raises StaleDataError (409).
    __mapper_args__ = {"version_id_col": version}


# A shortcut names one response per scope; global (NULL department) is a scope of its own, which a
# plain UNIQUE would not enforce (NULLs are distinct), hence the COALESCE. NULL shortcuts never clash.
Index(
    "uq_canned_responses_scope_shortcut",
    func.coalesce(CannedResponse.department_id, 0),
    CannedResponse.shortcut,
    unique=True,
)
