"""Notifications: fan-out in set-based inserts, the unread count, my list, and marking read.

Every change records an outbox event for the recipient's own room (`agent:<id>`) with the new
unread count, in the same transaction, so each open tab of that agent updates its badge without
asking; the count is a COUNT over the partial index of unread rows (ix_notifications_unread).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, String, and_, cast, func, insert, literal, null, select, true, update
from sqlalchemy.orm import aliased

from service_hub.auth.principal import Principal
from service_hub.collab.models import Notification, NotificationKind
from service_hub.core.errors import ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.keyset import Sort, SortKey, decode_cursor, encode_cursor
from service_hub.core.outbox import record_event
from service_hub.core.types import UTCDateTime, utcnow
from service_hub.org.models import Agent, Department, DepartmentMembership
from service_hub.tickets.models import Ticket

# Newest first: the id alone orders them (it only grows).
NEWEST_FIRST = Sort((SortKey(Notification.id),), descending=True)


def _typed(value: Any, type_: Any) -> ColumnElement[Any]:
    """A constant for INSERT ... SELECT whose SQL type PostgreSQL can tell even when it is NULL."""
    return literal(value, type_) if value is not None else cast(null(), type_)


def unread_counts(agent_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(agent_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Notification.recipient_id, func.count())
        .where(Notification.recipient_id.in_(ids), Notification.read_at.is_(None))
        .group_by(Notification.recipient_id)
    )
    counts = {agent_id: 0 for agent_id in ids}
    counts.update({recipient: int(n) for recipient, n in rows})
    return counts


def unread_count(agent_id: int) -> int:
    return unread_counts([agent_id])[agent_id]


def fan_out(
    kind: NotificationKind,
    ticket: Ticket,
    *,
    actor_id: int | None,
    message_id: int | None,
    agent_ids: Sequence[int] = (),
    department_ids: Sequence[int] = (),
    now: datetime | None = None,
) -> int:
    """Notify these agents and the active members of these departments, each once, never the actor.

    Two INSERT ... SELECT statements, however large the department: named agents first, then
    members not already named (one row per member however many of the departments they are in).
    """
    now = now or utcnow()
    skip = {actor_id} if actor_id else set()
    constants = (
        literal(kind.value, String()).label("kind"),
        _typed(ticket.id, BigInteger()).label("ticket_id"),
        _typed(message_id, BigInteger()).label("message_id"),
        _typed(actor_id, Integer()).label("actor_id"),
        literal(now, UTCDateTime()).label("created_at"),
    )
    columns = ["recipient_id", "department_id", "kind", "ticket_id", "message_id", "actor_id", "created_at"]
    named = [a for a in agent_ids if a not in skip]
    if named:
        direct = select(Agent.id, _typed(None, Integer()).label("department_id"), *constants).where(
            Agent.id.in_(named), Agent.is_active.is_(True)
        )
        db.session.execute(insert(Notification).from_select(columns, direct))
    if department_ids:
        members = (
            select(DepartmentMembership.agent_id, func.min(DepartmentMembership.department_id), *constants)
            .join(Agent, Agent.id == DepartmentMembership.agent_id)
            .where(
                DepartmentMembership.department_id.in_(department_ids),
                Agent.is_active.is_(True),
                DepartmentMembership.agent_id.not_in([*named, *skip]) if named or skip else true(),
            )
            .group_by(DepartmentMembership.agent_id)
        )
        db.session.execute(insert(Notification).from_select(columns, members))
    created = db.session.execute(
        select(Notification.id, Notification.recipient_id, Notification.department_id).where(
            Notification.ticket_id == ticket.id,
            Notification.kind == kind,
            Notification.created_at == now,
            Notification.message_id == message_id if message_id is not None else Notification.message_id.is_(None),
        )
    ).all()
    counts = unread_counts(row.recipient_id for row in created)
    for row in created:
        record_event(
            "notification.created",
            {
                "notification_id": row.id,
                "kind": kind.value,
                "ticket_id": ticket.id,
                "ticket_number": ticket.number,
                "message_id": message_id,
                "department_id": row.department_id,
                "actor_id": actor_id,
                "unread_count": counts[row.recipient_id],
            },
            [f"agent:{row.recipient_id}"],
        )
    return len(created)


def list_mine(agent_id: int, *, unread_only: bool, limit: int, cursor: str | None) -> dict[str, Any]:
    """My notifications, newest first, in keyset pages, with what the list shows in the same query."""
    actor = aliased(Agent)
    query = (
        select(Notification, Ticket.number, actor.name, Department.name)
        .join(Ticket, Ticket.id == Notification.ticket_id)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .outerjoin(Department, Department.id == Notification.department_id)
        .where(Notification.recipient_id == agent_id)
        .order_by(Notification.id.desc())
        .limit(limit + 1)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if cursor:
        (before,) = decode_cursor(cursor, NEWEST_FIRST)
        query = query.where(Notification.id < before)
    rows = db.session.execute(query).all()
    items = [
        {
            "id": n.id,
            "kind": n.kind.value,
            "ticket": {"id": n.ticket_id, "number": number},
            "message_id": n.message_id,
            "department": {"id": n.department_id, "name": department_name} if n.department_id else None,
            "actor": {"id": n.actor_id, "name": actor_name} if n.actor_id else None,
            "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None,
        }
        for n, number, actor_name, department_name in rows[:limit]
    ]
    next_cursor = encode_cursor([rows[limit - 1][0].id]) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


def mark_read(actor: Principal, *, ids: Sequence[int] | None = None, up_to_id: int | None = None) -> dict[str, int]:
    """Mark some of my notifications read (these ids, or all up to one id); others' are never touched."""
    if (ids is None) == (up_to_id is None):
        raise ValidationProblem("Send either ids or up_to_id.", errors={"ids": ["Send either ids or up_to_id."]})
    agent_id = actor.agent.id
    which = Notification.id.in_(list(ids)) if ids is not None else Notification.id <= up_to_id
    now = utcnow()
    result = db.session.execute(
        update(Notification)
        .where(and_(Notification.recipient_id == agent_id, Notification.read_at.is_(None), which))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    marked = int(result.rowcount or 0)  # type: ignore[attr-defined]
    unread = unread_count(agent_id)
    if marked:
        # The agent's other tabs learn the new count; nothing changes, nothing is sent.
        payload: dict[str, Any] = {"marked": marked, "unread_count": unread}
        payload |= {"ids": sorted(set(ids))} if ids is not None else {"up_to_id": up_to_id}
        record_event("notification.read", payload, [f"agent:{agent_id}"])
    db.session.commit()
    return {"marked": marked, "unread_count": unread}
