"""The escalation ladder: warning, breach (with an urge to the handler), then supervision.

Each rung is fired by one conditional UPDATE ... RETURNING that sets its timestamp only where it
is still empty. Two scheduler processes running at once therefore fire each rung once: the
second UPDATE finds the column set (PostgreSQL re-checks the WHERE after the row lock; SQLite
serialises writers) and returns nothing. The outbox events commit with the rung's timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from service_hub.casework.models import SlaClock, SlaClockEvent
from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.core.types import utcnow
from service_hub.tickets.models import AuditEvent, Ticket


@dataclass
class EscalationRun:
    warned: int = 0
    breached: int = 0
    supervised: int = 0


def _rooms(ticket: Any) -> list[str]:
    rooms = [f"ticket:{ticket.id}", f"department:{ticket.department_id}", "supervisors"]
    if ticket.assignee_id:
        rooms.append(f"agent:{ticket.assignee_id}")
    return rooms


def _fire(rung: str, column: Any, due_column: Any, now: datetime, extra_where: tuple[Any, ...]) -> list[Any]:
    stmt = (
        update(SlaClock)
        .where(column.is_(None), due_column <= now, *extra_where)
        .values({column.key: now})
        .returning(
            SlaClock.id,
            SlaClock.ticket_id,
            SlaClock.kind,
            SlaClock.due_at,
            SlaClock.business_seconds_used,
            SlaClock.target_seconds,
            SlaClock.supervise_after_seconds,
        )
    )
    fired = db.session.execute(stmt).all()
    if not fired:
        return []
    tickets = {
        t.id: t
        for t in db.session.execute(
            select(Ticket.id, Ticket.number, Ticket.department_id, Ticket.assignee_id).where(Ticket.id.in_({r.ticket_id for r in fired}))
        )
    }
    # Set-based writes: a backlog of thousands of rungs (a scheduler that was down) stays one batch.
    events, outbox, audits = [], [], []
    for row in fired:
        ticket = tickets[row.ticket_id]
        due = row.due_at.isoformat() if row.due_at else None
        events.append(
            {
                "clock_id": row.id,
                "kind": rung,
                "at": now,
                "business_used": row.business_seconds_used,
                "due_at": row.due_at,
                "target_seconds": row.target_seconds,
            }
        )
        payload = {"ticket_id": ticket.id, "number": ticket.number, "clock": row.kind, "due_at": due}
        outbox.append({"event_type": f"sla.{rung}", "payload": payload, "rooms": _rooms(ticket), "created_at": now})
        audits.append(
            {
                "ticket_id": ticket.id,
                "actor_via": "system",
                "action": f"sla.{rung}",
                "after": {"clock": row.kind, "due_at": due},
                "created_at": now,
            }
        )
    db.session.execute(insert(SlaClockEvent), events)
    db.session.execute(insert(OutboxEvent), outbox)
    db.session.execute(insert(AuditEvent), audits)
    return fired


def run_escalations(now: datetime | None = None) -> EscalationRun:
    now = now or utcnow()
    run = EscalationRun()
    running = (SlaClock.status == "running",)
    run.warned = len(_fire("warning", SlaClock.warned_at, SlaClock.warn_at, now, running))
    breached = _fire("breached", SlaClock.breached_at, SlaClock.due_at, now, running)
    run.breached = len(breached)
    if breached:
        # 督办 follows a breach after the policy's delay, unless the clock stops first (bulk UPDATE by id).
        db.session.execute(
            update(SlaClock), [{"id": r.id, "supervise_at": now + timedelta(seconds=r.supervise_after_seconds)} for r in breached]
        )
    # Only a clock still running is still overdue: one solved or paused meanwhile is not supervised.
    run.supervised = len(_fire("supervise", SlaClock.supervised_at, SlaClock.supervise_at, now, running))
    db.session.commit()
    return run
