"""The ticket list behind every inbox view: filters, sort orders and keyset pages, in one query.

Each sort order ends in the id, so the order is total and a cursor names one exact place. The
inbox order (priority, then due time) matches ix_tickets_inbox / ix_tickets_inbox_active.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, text

from service_hub.auth.scope import DepartmentScope
from service_hub.core.extensions import db
from service_hub.core.keyset import Sort, SortKey, cursor_for, seek
from service_hub.customers.models import ContactIdentity, Customer
from service_hub.org.models import Agent, Department
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import ACTIVE_STATUSES, INBOX_ORDER, Ticket, TicketStatus, TicketTag

_ID = SortKey(Ticket.id)
SORTS: dict[str, Sort] = {
    "priority": INBOX_ORDER,
    "due": Sort((SortKey(Ticket.next_due_at, kind=datetime, nullable=True), _ID)),
    "created": Sort((SortKey(Ticket.created_at, kind=datetime), _ID)),
    "-created": Sort((SortKey(Ticket.created_at, kind=datetime), _ID), descending=True),
    "updated": Sort((SortKey(Ticket.updated_at, kind=datetime), _ID), descending=True),
}


# The same literal predicate as the partial index ix_tickets_inbox_active, so PostgreSQL can use it.
ACTIVE_PREDICATE = text("tickets.status IN ('new', 'open', 'pending', 'on_hold')")
assert {s.value for s in ACTIVE_STATUSES} == {"new", "open", "pending", "on_hold"}


def _status_clause(statuses: list[str]) -> Any:
    wanted: set[str] = set()
    for status in statuses:
        wanted |= {s.value for s in ACTIVE_STATUSES} if status == "active" else {status}
    if wanted == {s.value for s in ACTIVE_STATUSES}:
        return ACTIVE_PREDICATE
    return Ticket.status.in_([TicketStatus(s) for s in sorted(wanted)])


def _search_clause(q: str) -> Any:
    term = q.strip()
    number = term.lstrip("#")
    conditions = [Ticket.subject.ilike(f"%{_escape_like(term)}%", escape="\\")]
    if number.isdigit() and len(number) < 19:
        conditions.append(Ticket.number == int(number))
    matching_customers = select(Customer.id).where(Customer.name.ilike(f"%{_escape_like(term)}%", escape="\\"))
    identity_customers = select(ContactIdentity.customer_id).where(ContactIdentity.value == term.lower())
    conditions.append(Ticket.customer_id.in_(matching_customers.union(identity_customers)))
    return or_(*conditions)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def build_query(scope: DepartmentScope, agent_id: int, args: dict[str, Any]) -> tuple[Select[Any], Sort]:
    query = select(Ticket).where(visible_tickets_clause(scope))
    if args.get("status"):
        query = query.where(_status_clause(args["status"]))
    if args.get("priority"):
        query = query.where(Ticket.priority.in_(args["priority"]))
    if "department_id" in args:
        query = query.where(Ticket.department_id == args["department_id"])
    if "assignee" in args:
        who = args["assignee"]
        query = query.where(
            Ticket.assignee_id.is_(None) if who == "none" else Ticket.assignee_id == (agent_id if who == "me" else int(who))
        )
    if "customer_id" in args:
        query = query.where(Ticket.customer_id == args["customer_id"])
    if args.get("id"):
        query = query.where(Ticket.id.in_(args["id"]))
    if args.get("channel"):
        query = query.where(Ticket.channel.in_(args["channel"]))
    if args.get("tier"):
        query = query.where(Ticket.tier.in_(args["tier"]))
    if "tag" in args:
        query = query.where(Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == args["tag"].lower())))
    if "q" in args:
        query = query.where(_search_clause(args["q"]))
    if "due_before" in args:
        query = query.where(Ticket.next_due_at < args["due_before"])
    if "created_after" in args:
        query = query.where(Ticket.created_at >= args["created_after"])
    if "created_before" in args:
        query = query.where(Ticket.created_at < args["created_before"])
    keys = SORTS[args.get("sort", "priority")]
    return query, keys


_LIST_COLUMNS = (
    Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.priority, Ticket.channel, Ticket.tier,
    Ticket.first_response_due_at, Ticket.resolution_due_at, Ticket.next_due_at,
    Ticket.created_at, Ticket.updated_at, Ticket.last_message_at, Ticket.version,
    Customer.id.label("customer_id"), Customer.name.label("customer_name"), Customer.tier.label("customer_tier"),
    Department.id.label("department_id"), Department.name.label("department_name"),
    Agent.id.label("assignee_id"), Agent.name.label("assignee_name"),
)  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _item(row: Any, tags: list[str]) -> dict[str, Any]:
    """One list row, in exactly the shape of schemas.TicketListItem (a test holds them equal)."""
    return {
        "id": row.id, "number": row.number, "subject": row.subject, "status": row.status.value,
        "priority": row.priority.name.lower(), "channel": row.channel.value, "tier": row.tier.value,
        "customer": {"id": row.customer_id, "name": row.customer_name, "tier": row.customer_tier.value},
        "department": {"id": row.department_id, "name": row.department_name},
        "assignee": {"id": row.assignee_id, "name": row.assignee_name} if row.assignee_id is not None else None,
        "tags": tags,
        "first_response_due_at": _iso(row.first_response_due_at), "resolution_due_at": _iso(row.resolution_due_at),
        "next_due_at": _iso(row.next_due_at), "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
        "last_message_at": _iso(row.last_message_at), "version": row.version,
    }  # fmt: skip


def list_tickets(scope: DepartmentScope, agent_id: int, args: dict[str, Any]) -> dict[str, Any]:
    """One page as plain dicts: the inbox is the hottest read, so no ORM objects and no schema
    dump; one query for the rows with their customer, department and assignee, one for tags."""
    query, sort = build_query(scope, agent_id, args)
    limit = args.get("limit", 25)
    query = (
        seek(query, sort, args.get("cursor"))
        .with_only_columns(*_LIST_COLUMNS)
        .join(Customer, Customer.id == Ticket.customer_id)
        .join(Department, Department.id == Ticket.department_id)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
        .limit(limit + 1)
    )
    rows = db.session.execute(query).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    tags: dict[int, list[str]] = {row.id: [] for row in rows}
    if rows:
        tag_rows = db.session.execute(
            select(TicketTag.ticket_id, TicketTag.tag).where(TicketTag.ticket_id.in_(tags)).order_by(TicketTag.tag)
        )
        for ticket_id, tag in tag_rows:
            tags[ticket_id].append(tag)
    return {"items": [_item(row, tags[row.id]) for row in rows], "next_cursor": cursor_for(rows[-1], sort) if has_more else None}
