"""One case timeline: messages, internal notes, workflow steps, invitations and SLA clock events in order.

Each source is read by its own indexed query, from the cursor on, at most one page plus one row;
the rows are merged here and the first page of them kept. So a page costs the same on a ticket with
ten entries or ten thousand, and nothing loads a ticket's whole history.

The order is total: time, then the source's rank, then the row id. The cursor carries the last
item's (at, rank, id), and each source starts strictly after it, so pages neither skip nor repeat
even when entries of different sources share a timestamp.

The browser shows a conversation: the newest page first (`latest`), earlier pages on scroll-up
(`before`, the same walk backwards), and what arrives live after `tail_cursor` (the last item
shown), still each page oldest first.

Sources and their kinds:
  0 messages       "message" (inbound or outbound, with channel) and "note" (with its mentions)
  1 audit trail    "workflow_step" (workflow.<action>) and "invitation" (created, revoked)
  2 SLA clocks     "sla" (started, paused, resumed, extended, stopped, warned, breached, supervised)
  3 calls          "call" (issue 3, the hotline: the call record with its figures, at the call's start)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, true, tuple_
from sqlalchemy.orm import joinedload

from service_hub.casework.models import SlaClock, SlaClockEvent
from service_hub.collab.mentions import parse_mentions
from service_hub.core.extensions import db
from service_hub.core.keyset import Sort, SortKey, decode_cursor, encode_cursor
from service_hub.inbound.call_models import CallRecord  # issue 3, the hotline: the calls source
from service_hub.org.models import Agent
from service_hub.tickets.models import AuditEvent, Direction, Message, Ticket

# The cursor's shape for decode_cursor: (at, source rank, id); only the kinds of the keys matter.
_CURSOR = Sort((SortKey(Message.created_at, kind=datetime), SortKey(Message.id), SortKey(Message.id)))
INVITATION_ACTIONS = ("invitation.created", "invitation.revoked")

Cursor = tuple[datetime, int, int]


def _after(at: Any, row_id: Any, rank: int, cursor: Cursor | None) -> ColumnElement[bool]:
    """Rows of a source of this rank that come after the cursor in (at, rank, id) order."""
    if cursor is None:
        return true()
    at_value, rank_value, id_value = cursor
    if rank > rank_value:
        return at >= at_value  # type: ignore[no-any-return]
    if rank < rank_value:
        return at > at_value  # type: ignore[no-any-return]
    return tuple_(at, row_id) > tuple_(at_value, id_value)


def _before(at: Any, row_id: Any, rank: int, cursor: Cursor) -> ColumnElement[bool]:
    """Rows of a source of this rank that come before the cursor in (at, rank, id) order."""
    at_value, rank_value, id_value = cursor
    if rank < rank_value:
        return at <= at_value  # type: ignore[no-any-return]
    if rank > rank_value:
        return at < at_value  # type: ignore[no-any-return]
    return tuple_(at, row_id) < tuple_(at_value, id_value)


def _ref(agent_id: int | None, names: dict[int, str]) -> dict[str, Any] | None:
    return {"id": agent_id, "name": names.get(agent_id, "")} if agent_id else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _messages(ticket: Ticket, cursor: Cursor | None, limit: int) -> Select[Any]:
    return (
        select(Message)
        .where(Message.ticket_id == ticket.id, _after(Message.created_at, Message.id, 0, cursor))
        .options(joinedload(Message.author_agent).lazyload(Agent.memberships))
        .order_by(Message.created_at, Message.id)
        .limit(limit + 1)
    )


def _message_item(message: Message, names: dict[int, str]) -> dict[str, Any]:
    item = {
        "kind": "note" if message.direction == Direction.NOTE else "message",
        "direction": message.direction.value,
        "channel": message.channel.value,
        "author": {"id": message.author_agent.id, "name": message.author_agent.name} if message.author_agent else None,
        "author_customer_id": message.author_customer_id,
        "body_text": message.body_text,
        "body_html": message.body_html,
        "delivery_status": message.delivery_status.value,
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "media_type": a.media_type,
                "size": a.size,
                "status": a.status.value,  # issue 3: inbound media that did not arrive is a placeholder
                "note": a.note,
                "download_url": f"/api/v1/attachments/{a.id}/content" if a.status.value == "stored" else None,
            }
            for a in message.attachments
        ],
    }
    if message.direction == Direction.NOTE:
        # Each token was checked when the note was written (collab.mentions).
        item["mentions"] = [t.as_dict() for t in parse_mentions(message.body_text)]
    return item


def _audit(ticket: Ticket, cursor: Cursor | None, limit: int) -> Select[Any]:
    return (
        select(AuditEvent)
        .where(
            AuditEvent.ticket_id == ticket.id,
            or_(AuditEvent.action.like("workflow.%"), AuditEvent.action.in_(INVITATION_ACTIONS)),
            _after(AuditEvent.created_at, AuditEvent.id, 1, cursor),
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
        .limit(limit + 1)
    )


def _audit_item(event: AuditEvent, names: dict[int, str]) -> dict[str, Any]:
    before, after = event.before or {}, event.after or {}
    actor = _ref(event.actor_id, names)
    if event.action.startswith("invitation."):
        return {
            "kind": "invitation",
            "action": event.action.removeprefix("invitation."),
            "invitation_id": after.get("invitation_id"),
            "department": {"id": after.get("department_id"), "name": after.get("department_name")},
            "note": after.get("note"),
            "actor": actor,
        }
    return {
        "kind": "workflow_step",
        "action": event.action.removeprefix("workflow."),
        "from_step": before.get("step"),
        "to_step": after.get("step"),
        "task_id": after.get("task_id"),
        "actor": actor,
    }


def _sla(ticket: Ticket, cursor: Cursor | None, limit: int) -> Select[Any]:
    return (
        select(SlaClockEvent)
        .join(SlaClock, SlaClock.id == SlaClockEvent.clock_id)
        .where(SlaClock.ticket_id == ticket.id, _after(SlaClockEvent.at, SlaClockEvent.id, 2, cursor))
        .options(joinedload(SlaClockEvent.clock))
        .order_by(SlaClockEvent.at, SlaClockEvent.id)
        .limit(limit + 1)
    )


def _sla_item(event: SlaClockEvent, names: dict[int, str]) -> dict[str, Any]:
    return {
        "kind": "sla",
        "clock": event.clock.kind,
        "event": event.kind,
        "due_at": _iso(event.due_at),
        "target_seconds": event.target_seconds,
        "business_seconds_used": event.business_used,
    }


def _calls(ticket: Ticket, cursor: Cursor | None, limit: int) -> Select[Any]:  # issue 3, the hotline
    return (
        select(CallRecord)
        .where(CallRecord.ticket_id == ticket.id, _after(CallRecord.created_at, CallRecord.id, 3, cursor))
        .order_by(CallRecord.created_at, CallRecord.id)
        .limit(limit + 1)
    )


def _call_item(call: CallRecord, names: dict[int, str]) -> dict[str, Any]:
    return {"kind": "call"} | call.as_dict()


@dataclass(frozen=True)
class _Source:
    rank: int
    query: Callable[[Ticket, Cursor | None, int], Select[Any]]
    at: Callable[[Any], datetime]
    item: Callable[[Any, dict[int, str]], dict[str, Any]]
    columns: tuple[Any, Any]  # (at, id) columns, for walking backwards


SOURCES = (
    _Source(0, _messages, lambda m: m.created_at, _message_item, (Message.created_at, Message.id)),
    _Source(1, _audit, lambda e: e.created_at, _audit_item, (AuditEvent.created_at, AuditEvent.id)),
    _Source(2, _sla, lambda e: e.at, _sla_item, (SlaClockEvent.at, SlaClockEvent.id)),
    _Source(3, _calls, lambda c: c.created_at, _call_item, (CallRecord.created_at, CallRecord.id)),  # issue 3, the hotline
)


def _decode(cursor: str) -> Cursor:
    return tuple(decode_cursor(cursor, _CURSOR))  # type: ignore[return-value]


def timeline_page(ticket: Ticket, limit: int, cursor: str | None, *, before: str | None = None, latest: bool = False) -> dict[str, Any]:
    """One page of the ticket's timeline, oldest first.

    Forwards from `cursor` (or the start): next_cursor continues (None at the end). Backwards with
    `latest` (the newest page) or `before` (the page ending just before that cursor): prev_cursor
    goes on backwards (None at the start). tail_cursor is the last item's, to ask what came after.
    """
    backward = latest or before is not None
    after: Cursor | None = _decode(cursor) if cursor and not backward else None
    until: Cursor | None = _decode(before) if before else None
    rows: list[tuple[datetime, int, int, _Source, Any]] = []
    for source in SOURCES:
        query = source.query(ticket, after, limit)
        if backward:
            at_column, id_column = source.columns
            query = query.order_by(None).order_by(at_column.desc(), id_column.desc())
            if until is not None:
                query = query.where(_before(at_column, id_column, source.rank, until))
        for row in db.session.scalars(query).unique():
            rows.append((source.at(row), source.rank, row.id, source, row))
    rows.sort(key=lambda r: r[:3], reverse=backward)
    # Each source gave at most limit + 1 rows: more than a page in all means some are left.
    page = rows[:limit]
    if backward:
        page.reverse()
    actor_ids = {r[4].actor_id for r in page if isinstance(r[4], AuditEvent) and r[4].actor_id}
    names = {r.id: r.name for r in db.session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(actor_ids)))} if actor_ids else {}
    items = [{"at": at.isoformat(), "id": row_id} | source.item(row, names) for at, _rank, row_id, source, row in page]
    more = len(rows) > limit
    return {
        "items": items,
        "next_cursor": encode_cursor(list(page[-1][:3])) if more and not backward else None,
        "prev_cursor": encode_cursor(list(page[0][:3])) if more and backward else None,
        "tail_cursor": encode_cursor(list(page[-1][:3])) if page else (cursor if not backward else None),
    }
