"""When two customers merge, their value records follow the survivor (customers.operations.merge_customers)."""

from __future__ import annotations

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import aliased

from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.value.models import CustomerScore, DirtyCustomer, MonthlyRevenue, Transaction


def move_value_records(source_id: int, target_id: int) -> dict[str, int]:
    """Transactions move; a month billed to both is added up (two lines, one customer); the source's
    scores go (a tombstone is not scored) and the survivor is rescored on the next incremental run."""
    moved = db.session.execute(update(Transaction).where(Transaction.customer_id == source_id).values(customer_id=target_id)).rowcount
    other = aliased(MonthlyRevenue)
    same_month = and_(other.customer_id == source_id, other.month == MonthlyRevenue.month)
    db.session.execute(
        update(MonthlyRevenue)
        .where(MonthlyRevenue.customer_id == target_id, exists().where(same_month))
        .values(arpu=MonthlyRevenue.arpu + select(other.arpu).where(same_month).scalar_subquery())
    )
    target_months = select(MonthlyRevenue.month).where(MonthlyRevenue.customer_id == target_id)
    db.session.execute(delete(MonthlyRevenue).where(MonthlyRevenue.customer_id == source_id, MonthlyRevenue.month.in_(target_months)))
    revenue = db.session.execute(
        update(MonthlyRevenue).where(MonthlyRevenue.customer_id == source_id).values(customer_id=target_id)
    ).rowcount
    db.session.execute(delete(CustomerScore).where(CustomerScore.customer_id == source_id))
    db.session.execute(delete(DirtyCustomer).where(DirtyCustomer.customer_id.in_((source_id, target_id))))
    db.session.add(DirtyCustomer(customer_id=target_id, marked_at=utcnow()))
    return {"transaction_count": int(moved or 0), "revenue_month_count": int(revenue or 0)}
