"""Business calendars, SLA policies, and the SLA clocks of each ticket with their history.

A clock stores everything needed to answer "when is it due" and "how much business time is
used" (see workflows.sla.ClockState); nothing replays history (Zammad #192).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service_hub.core.extensions import db
from service_hub.core.types import BigIntPK, JSONDocument, UTCDateTime, utcnow


class BusinessCalendarRow(db.Model):
    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    # {"0": [["09:00", "12:00"], ["13:00", "18:00"]], ...} by ISO weekday 0=Monday; {} = always open
    hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSONDocument, default=dict)
    china_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    # [["2026-09-14T00:00:00+08:00", "2026-09-15T12:00:00+08:00"], ...] e.g. a typhoon closure
    closures: Mapped[list[list[str]]] = mapped_column(JSONDocument, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SlaPolicyRow(db.Model):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # breaks ties between equally specific policies
    tier: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    next_response_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    calendar_key: Mapped[str] = mapped_column(String(64), default="24x7")
    warning_share: Mapped[float] = mapped_column(Float, default=0.75)
    # Formal supervision (督办) this long after a breach, in wall-clock seconds.
    supervise_after_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class SlaClock(db.Model):
    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind"),
        # The escalation job's scans: each is one range scan over running clocks only.
        Index(
            "ix_sla_clocks_warn",
            "warn_at",
            postgresql_where=text("status = 'running' AND warned_at IS NULL"),
            sqlite_where=text("status = 'running' AND warned_at IS NULL"),
        ),
        Index(
            "ix_sla_clocks_due",
            "due_at",
            postgresql_where=text("status = 'running' AND breached_at IS NULL"),
            sqlite_where=text("status = 'running' AND breached_at IS NULL"),
        ),
        Index(
            "ix_sla_clocks_supervise",
            "supervise_at",
            postgresql_where=text("supervised_at IS NULL"),
            sqlite_where=text("supervised_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))  # first_response, resolution, a workflow clock, task@<task id>
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id", ondelete="SET NULL"))
    calendar_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # running, paused, met, breached
    target_seconds: Mapped[float] = mapped_column(Float)
    warning_share: Mapped[float] = mapped_column(Float)
    business_seconds_used: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The escalation ladder: each rung is set once, by the conditional UPDATE that fires it.
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervise_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervise_after_seconds: Mapped[int] = mapped_column(Integer, default=3600)


class SlaClockEvent(db.Model):
    __tablename__ = "sla_clock_events"
    __table_args__ = (Index("ix_sla_clock_events_clock", "clock_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # started, paused, resumed, extended, stopped, warned, breached, supervised
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    business_used: Mapped[float] = mapped_column(Float)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    target_seconds: Mapped[float] = mapped_column(Float)

    clock: Mapped[SlaClock] = relationship()


class CaseRecord(db.Model):
    """A ticket's workflow: the definition version it started with and the engine's state."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_step", "definition_key", "step"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    definition_key: Mapped[str] = mapped_column(String(64))
    definition_version: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(64))  # copied from state for queries (department boards)
    state: Mapped[dict[str, object]] = mapped_column(JSONDocument)  # workflows.engine.CaseState.to_dict()
    # Inputs accepted by actions (reply_text, handling_result, ...): later steps' required fields.
    fields: Mapped[dict[str, object]] = mapped_column(JSONDocument, default=dict)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseTask(db.Model):
    """One department's part of a countersigned case (会签): lead or co-handler, open until done."""

    __tablename__ = "case_tasks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "task_key"),
        Index("ix_case_tasks_department", "department_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    task_key: Mapped[str] = mapped_column(String(32))  # the engine's task id
    function: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, done, returned, cancelled
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoutingRuleRow(db.Model):
    """One routing rule, stored as workflows.routing.rule_to_dict() and ordered by position."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[dict[str, object]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QueueSettings(db.Model):
    """How a department's queue hands out work, and where round-robin stopped last."""

    __tablename__ = "queue_settings"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(16), default="least_loaded")  # or round_robin
    tier_matching: Mapped[str] = mapped_column(String(16), default="preferred")  # strict, preferred, off
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=True)
    round_robin_cursor: Mapped[int | None] = mapped_column(Integer)
