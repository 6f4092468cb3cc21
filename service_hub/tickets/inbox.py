"""The ticket list behind every inbox view: filters, sort orders and keyset pages, in one query.

Each sort order ends in the id, so the order is total and a cursor names one exact place. The
inbox order (priority, then due time) matches ix_tickets_inbox / ix_tickets_inbox_active.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select, text
from sqlalchemy.orm import joinedload, selectinload

from service_hub.auth.scope import DepartmentScope
from service_hub.core.extensions import db
from service_hub.core.keyset import SortKey, cursor_for, seek
from service_hub.customers.models import ContactIdentity, Customer
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import ACTIVE_STATUSES, Ticket, TicketStatus, TicketTag

SORTS: dict[str, list[SortKey]] = {
    "priority": [
        SortKey(Ticket.priority, descending=True),
        SortKey(Ticket.next_due_at, nullable=True, is_datetime=True),
        SortKey(Ticket.id),
    ],
    "due": [SortKey(Ticket.next_due_at, nullable=True, is_datetime=True), SortKey(Ticket.id)],
    "created": [SortKey(Ticket.created_at, is_datetime=True), SortKey(Ticket.id)],
    "-created": [SortKey(Ticket.created_at, descending=True, is_datetime=True), SortKey(Ticket.id, descending=True)],
    "updated": [SortKey(Ticket.updated_at, descending=True, is_datetime=True), SortKey(Ticket.id, descending=True)],
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


def build_query(scope: DepartmentScope, agent_id: int, args: dict[str, Any]) -> tuple[Select[Any], list[SortKey]]:
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


def list_tickets(scope: DepartmentScope, agent_id: int, args: dict[str, Any]) -> dict[str, Any]:
    query, keys = build_query(scope, agent_id, args)
    limit = args.get("limit", 25)
    # Many-to-one refs ride in the same query (joins); tags are one extra IN query per page.
    query = (
        seek(query, keys, args.get("cursor"))
        .limit(limit + 1)
        .options(
            joinedload(Ticket.customer).load_only(Customer.id, Customer.name, Customer.tier, raiseload=True),
            joinedload(Ticket.department),
            joinedload(Ticket.assignee),
            selectinload(Ticket.tag_rows),
        )
    )
    rows = list(db.session.scalars(query).unique())
    has_more = len(rows) > limit
    items = rows[:limit]
    return {"items": items, "next_cursor": cursor_for(items[-1], keys) if has_more else None}
