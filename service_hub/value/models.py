"""Tables of the customer-value model: inputs (transactions, revenue), the model, the results."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, Numeric, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.core.extensions import db
from service_hub.core.types import BigIntPK, JSONDocument, UTCDateTime, utcnow


class ImportJob(db.Model):
    """One CSV import: its counts and the report of the rows it refused (line, reason)."""

    __tablename__ = "value_import_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # transactions, revenue
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done, failed
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_rows: Mapped[int] = mapped_column(Integer, default=0)  # rows that wrote data, updated ones included
    updated_rows: Mapped[int] = mapped_column(Integer, default=0)  # revenue months whose ARPU changed
    duplicate_rows: Mapped[int] = mapped_column(Integer, default=0)
    rejected_rows: Mapped[int] = mapped_column(Integer, default=0)
    # [{"line": 7, "reason": "...", "raw": "..."}], capped; rejected_rows has the full count
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Transaction(db.Model):
    """A purchase or charge. dedupe_key makes every import and API record idempotent."""

    __tablename__ = "value_transactions"
    # Covering: an incremental run reads its customers' purchases from the index alone.
    __table_args__ = (Index("ix_value_transactions_customer_day", "customer_id", "occurred_on", "amount"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # sha256 of the source's transaction id, or of the normalised row and its occurrence in the file
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(120))
    occurred_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    product: Mapped[str | None] = mapped_column(String(120))
    category: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("value_import_jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonthlyRevenue(db.Model):
    """A subscriber's ARPU for one month; a later import of the same month replaces it."""

    __tablename__ = "value_monthly_revenue"
    __table_args__ = (UniqueConstraint("customer_id", "month"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    arpu: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("value_import_jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirtyCustomer(db.Model):
    """Customers with new records since the last computation: the incremental run's work list."""

    __tablename__ = "value_dirty_customers"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ValueModelRow(db.Model):
    """A version of the value model (config.ValueModelConfig as JSON); the newest active one is used."""

    __tablename__ = "value_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ValueRun(db.Model):
    """One computation (full or incremental) and the population statistics it scored against.

    An incremental run places changed customers against the boundaries of the last full run, so
    its scores mean the same thing as everyone else's until the next full run re-ranks all.
    """

    __tablename__ = "value_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # full, incremental
    as_of: Mapped[date] = mapped_column(Date)
    model_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done, failed
    customers: Mapped[int] = mapped_column(Integer, default=0)
    tier_changes: Mapped[int] = mapped_column(Integer, default=0)
    # {"recency_days": {"mean": .., "quintile_upper": [..4 values..]}, "caps": {"monetary": ..}, ...}
    statistics: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds: Mapped[float | None] = mapped_column(Float)


class CustomerScore(db.Model):
    """Everything the model computed for one customer; one row per customer, replaced each run."""

    __tablename__ = "value_customer_scores"
    __table_args__ = (
        Index("ix_value_scores_segment", "segment8"),
        Index("ix_value_scores_churn", "churn_risk"),
    )

    # No foreign key: scores are derived data, rebuilt by build-and-swap each full run (scoring.py),
    # and customers are never deleted (a merge leaves a tombstone and drops its scores).
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    run_id: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    # RFM over the model's window; recency over all history
    recency_days: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer, default=0)
    monetary: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)
    first_purchase_on: Mapped[date | None] = mapped_column(Date)
    last_purchase_on: Mapped[date | None] = mapped_column(Date)
    lifetime_purchases: Mapped[int] = mapped_column(Integer, default=0)
    r_score: Mapped[int | None] = mapped_column(SmallInteger)
    f_score: Mapped[int | None] = mapped_column(SmallInteger)
    m_score: Mapped[int | None] = mapped_column(SmallInteger)
    segment8: Mapped[str | None] = mapped_column(String(32))
    segment10: Mapped[str | None] = mapped_column(String(32))
    avg_arpu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    clv_simple: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)
    clv_contract: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    tenure_days: Mapped[int] = mapped_column(Integer, default=0)
    spend_recent: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)  # last trend window
    spend_prior: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)  # the window before it
    purchases_recent: Mapped[int] = mapped_column(Integer, default=0)
    purchases_prior: Mapped[int] = mapped_column(Integer, default=0)
    complaints_recent: Mapped[int] = mapped_column(Integer, default=0)
    breaches_recent: Mapped[int] = mapped_column(Integer, default=0)
    lifecycle: Mapped[str] = mapped_column(String(16))
    churn_risk: Mapped[float] = mapped_column(Float, default=0.0)  # 0..100
    churn_reasons: Mapped[str] = mapped_column(String(200), default="")  # comma-separated reason codes
    value_index: Mapped[float] = mapped_column(Float, default=0.0)  # 0..100
    tier: Mapped[str] = mapped_column(String(16))
    tier_rule: Mapped[str] = mapped_column(String(120))  # which rule of the model assigned it
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TierChange(db.Model):
    """Every change of a customer's tier, with the run and rule that made it."""

    __tablename__ = "value_tier_changes"
    __table_args__ = (
        Index("ix_value_tier_changes_customer", "customer_id", "id"),
        Index("ix_value_tier_changes_at", "changed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    from_tier: Mapped[str | None] = mapped_column(String(16))
    to_tier: Mapped[str] = mapped_column(String(16))
    value_index: Mapped[float | None] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(120))
    run_id: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TierSnapshot(db.Model):
    """Customers per tier at the end of each full run: the tier-distribution-over-time chart."""

    __tablename__ = "value_tier_snapshots"
    __table_args__ = (UniqueConstraint("run_id", "tier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("value_runs.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    tier: Mapped[str] = mapped_column(String(16))
    customers: Mapped[int] = mapped_column(Integer)
