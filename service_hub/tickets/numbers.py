"""Human-readable ticket numbers from a counter row, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update

from service_hub.core.extensions import db
from service_hub.tickets.models import Counter

COUNTER = "ticket_number"  # the row is created by the first migration


def next_ticket_number() -> int:
    """UPDATE ... RETURNING takes the row lock: concurrent creators get distinct numbers.

    The lock is held until the creating transaction commits, which keeps numbers gap-free.
    """
    stmt = update(Counter).where(Counter.name == COUNTER).values(value=Counter.value + 1).returning(Counter.value)
    return int(db.session.execute(stmt).scalar_one())
