"""SLA reports for supervisors: per department and per agent over a period, in business time.

Set-based: one aggregate query per grouping over the tickets created in the period and their
clocks, never a loop over tickets. Business time is what the clocks stored when they stopped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from service_hub.auth.scope import DepartmentScope
from service_hub.casework.models import SlaClock
from service_hub.core.extensions import db
from service_hub.org.models import Agent, Department
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import ACTIVE_STATUSES, Ticket


def _clock_agg(kind: str) -> Any:
    return (
        select(SlaClock.ticket_id, SlaClock.status, SlaClock.business_seconds_used, SlaClock.breached_at)
        .where(SlaClock.kind == kind)
        .subquery()
    )


def sla_report(scope: DepartmentScope, start: datetime, end: datetime, group_by: str) -> list[dict[str, Any]]:
    """Rows of: open, breached (any clock), resolution met %, average first response and resolution (business seconds)."""
    first, resolution = _clock_agg("first_response"), _clock_agg("resolution")
    # Breached: past due while running (the ladder fired) or stopped late.
    breached_any = (
        select(SlaClock.ticket_id).where(or_(SlaClock.breached_at.is_not(None), SlaClock.status == "breached")).distinct().subquery()
    )
    key, name, join = (
        (Ticket.department_id, Department.name, (Department, Department.id == Ticket.department_id))
        if group_by == "department"
        else (Ticket.assignee_id, Agent.name, (Agent, Agent.id == Ticket.assignee_id))
    )
    stopped = resolution.c.status.in_(("met", "breached"))
    query = (
        select(
            key.label("id"),
            name.label("name"),
            func.count(Ticket.id).label("tickets"),
            func.sum(case((Ticket.status.in_(ACTIVE_STATUSES), 1), else_=0)).label("open"),
            func.count(breached_any.c.ticket_id).label("breached"),
            func.sum(case((resolution.c.status == "met", 1), else_=0)).label("resolution_met"),
            func.sum(case((stopped, 1), else_=0)).label("resolution_stopped"),
            func.avg(case((first.c.status.in_(("met", "breached")), first.c.business_seconds_used))).label("avg_first_response_seconds"),
            func.avg(case((stopped, resolution.c.business_seconds_used))).label("avg_resolution_seconds"),
        )
        .select_from(Ticket)
        .outerjoin(*join)  # unassigned tickets form their own row (id null)
        .outerjoin(first, first.c.ticket_id == Ticket.id)
        .outerjoin(resolution, resolution.c.ticket_id == Ticket.id)
        .outerjoin(breached_any, breached_any.c.ticket_id == Ticket.id)
        .where(and_(Ticket.created_at >= start, Ticket.created_at < end, visible_tickets_clause(scope)))
        .group_by(key, name)
        .order_by(name)
    )
    rows = []
    for r in db.session.execute(query):
        rows.append(
            {
                "id": r.id, "name": r.name, "tickets": r.tickets, "open": int(r.open or 0), "breached": r.breached,
                "resolution_met_percent": round(100.0 * r.resolution_met / r.resolution_stopped, 1) if r.resolution_stopped else None,
                "avg_first_response_seconds": round(float(r.avg_first_response_seconds), 1) if r.avg_first_response_seconds is not None else None,
                "avg_resolution_seconds": round(float(r.avg_resolution_seconds), 1) if r.avg_resolution_seconds is not None else None,
            }
        )  # fmt: skip
    return rows
