"""Demo tickets over the past 60 days: every status, priority and channel, with messages and tags."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service_hub.customers.models import IdentityKind, Tier
from service_hub.demo.bulk import insert_returning_ids, insert_rows
from service_hub.demo.content import PLANS
from service_hub.demo.conversations import Story, conversation, message_rows
from service_hub.demo.customers import CustomerRef
from service_hub.demo.organisation import Organisation
from service_hub.demo.topics import AREAS, COUNTRIES, EXTRA_TAGS, OTHER_OPERATORS, TOPICS, Topic
from service_hub.tickets.models import AuditEvent, Channel, Message, Priority, Ticket, TicketStatus, TicketTag

HISTORY_DAYS = 60
STATUS_WEIGHTS = {
    TicketStatus.NEW: 10,
    TicketStatus.OPEN: 22,
    TicketStatus.PENDING: 10,
    TicketStatus.ON_HOLD: 6,
    TicketStatus.SOLVED: 12,
    TicketStatus.CLOSED: 40,
}
# Mean age in hours of tickets still in an active status: new ones are fresh, parked ones older.
ACTIVE_MEAN_AGE_HOURS = {TicketStatus.NEW: 8, TicketStatus.OPEN: 48, TicketStatus.PENDING: 72, TicketStatus.ON_HOLD: 120}
FIRST_RESPONSE_HOURS = {Priority.URGENT: 0.5, Priority.HIGH: 2, Priority.NORMAL: 8, Priority.LOW: 24}
RESOLUTION_HOURS = {Priority.URGENT: 24, Priority.HIGH: 48, Priority.NORMAL: 72, Priority.LOW: 120}
# The chance an active ticket already has an owner; solved work almost always had one.
ASSIGNED_SHARE = {TicketStatus.NEW: 0.15, TicketStatus.SOLVED: 0.95, TicketStatus.CLOSED: 0.95}
TOP_TIERS = {Tier.DIAMOND, Tier.GOLD, Tier.VIP}
# Channels a customer can reach us on, by the identities they have; the web form is open to all.
CHANNELS_BY_IDENTITY = {
    IdentityKind.PHONE: ((Channel.PHONE, 5), (Channel.SMS, 1)),
    IdentityKind.EMAIL: ((Channel.EMAIL, 3),),
    IdentityKind.WECHAT: ((Channel.WECHAT, 4),),
    IdentityKind.WHATSAPP: ((Channel.WHATSAPP, 3),),
}


@dataclass
class _Draft:
    row: dict[str, Any]
    messages: list[dict[str, object]]
    tags: list[str]


def create_tickets(
    rng: random.Random, count: int, now: datetime, org: Organisation, customers: list[CustomerRef], first_number: int
) -> int:
    """Insert `count` tickets numbered from first_number in creation order; returns the last number."""
    # Numbers follow creation time, as they would have been handed out.
    timeline = sorted(_draw_timing(rng, now) for _ in range(count))
    drafts = [
        _draft(rng, now, org, rng.choice(customers), first_number + i, created_at, status)
        for i, (created_at, status) in enumerate(timeline)
    ]
    ids = insert_returning_ids(Ticket, [draft.row for draft in drafts])
    messages: list[dict[str, object]] = []
    tags: list[dict[str, object]] = []
    audits: list[dict[str, object]] = []
    for ticket_id, draft in zip(ids, drafts, strict=True):
        messages.extend(message | {"ticket_id": ticket_id} for message in draft.messages)
        tags.extend({"ticket_id": ticket_id, "tag": tag} for tag in draft.tags)
        audits.append(_created_audit(ticket_id, draft.row))
    insert_rows(Message, messages)
    insert_rows(TicketTag, tags)
    insert_rows(AuditEvent, audits)
    return first_number + count - 1


def _draw_timing(rng: random.Random, now: datetime) -> tuple[datetime, TicketStatus]:
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    if status == TicketStatus.CLOSED:
        age_hours = rng.uniform(4 * 24, HISTORY_DAYS * 24)
    elif status == TicketStatus.SOLVED:
        age_hours = rng.uniform(12, 6 * 24)
    else:
        age_hours = min(rng.expovariate(1 / ACTIVE_MEAN_AGE_HOURS[status]), HISTORY_DAYS * 24 - 1)
    return now - timedelta(hours=max(age_hours, 0.05)), status


def _draft(
    rng: random.Random, now: datetime, org: Organisation, customer: CustomerRef, number: int, created_at: datetime, status: TicketStatus
) -> _Draft:
    topic = rng.choices(TOPICS, weights=[t.weight for t in TOPICS])[0]
    unit = "vip" if customer.tier in TOP_TIERS and rng.random() < 0.6 else topic.unit
    department_id = org.unit_ids[(customer.centre, unit)]
    priority = _priority(rng, customer.tier, topic)
    channel = _channel(rng, customer)
    language = "en" if customer.language == "en" else "zh"

    first_response_due = created_at + timedelta(hours=FIRST_RESPONSE_HOURS[priority])
    resolution_due = created_at + timedelta(hours=topic.resolution_hours or RESOLUTION_HOURS[priority])
    first_responded_at = solved_at = closed_at = None
    if status != TicketStatus.NEW:
        delay = rng.expovariate(1 / (FIRST_RESPONSE_HOURS[priority] * 0.6))
        first_responded_at = min(created_at + timedelta(hours=delay), created_at + (now - created_at) * 0.5)
    if status in {TicketStatus.SOLVED, TicketStatus.CLOSED}:
        assert first_responded_at is not None
        work = timedelta(hours=rng.uniform(0.2, 1.2) * (resolution_due - created_at).total_seconds() / 3600)
        solved_at = min(first_responded_at + work, first_responded_at + (now - first_responded_at) * 0.7)
    if status == TicketStatus.CLOSED:
        assert solved_at is not None
        closed_at = min(solved_at + timedelta(days=rng.uniform(1, 3)), solved_at + (now - solved_at) * 0.9)

    candidates = org.assignable[department_id]
    assignee_id = rng.choice(candidates) if rng.random() < ASSIGNED_SHARE.get(status, 0.85) else None
    story = Story(
        topic=topic,
        language=language,
        status=status,
        created_at=created_at,
        first_responded_at=first_responded_at,
        solved_at=solved_at,
        closed_at=closed_at,
        now=now,
        handler_id=assignee_id or rng.choice(candidates),
        values=_template_values(rng, customer, number, language),
    )
    lines = conversation(rng, story)
    row: dict[str, Any] = {
        "number": number,
        "subject": rng.choice(topic.subjects[language]).format(**story.values),
        "status": status,
        "priority": priority,
        "channel": channel,
        "customer_id": customer.id,
        "department_id": department_id,
        "assignee_id": assignee_id,
        "tier": customer.tier,
        "first_response_due_at": first_response_due,
        "resolution_due_at": resolution_due,
        "next_due_at": _next_due(status, first_response_due, resolution_due),
        "first_responded_at": first_responded_at,
        "solved_at": solved_at,
        "closed_at": closed_at,
        "custom_fields": {"category": topic.key, "language": customer.language},
        "version": 1,  # Core inserts bypass the ORM's version counter
        "created_at": created_at,
        "updated_at": max(closed_at or lines[-1].at, lines[-1].at),
        "last_message_at": lines[-1].at,
    }
    messages = message_rows(rng, lines, channel=channel.value, customer_id=customer.id)
    return _Draft(row=row, messages=messages, tags=_tags(rng, customer, topic, unit))


def _next_due(status: TicketStatus, first_response_due: datetime, resolution_due: datetime) -> datetime | None:
    """The nearest running clock: none while paused (pending, on hold) or finished."""
    if status == TicketStatus.NEW:
        return first_response_due
    if status == TicketStatus.OPEN:
        return resolution_due
    return None


def _priority(rng: random.Random, tier: Tier, topic: Topic) -> Priority:
    """The tier sets the base priority; outages and complaints push it up, routine questions down."""
    base = {Tier.DIAMOND: Priority.HIGH, Tier.GOLD: Priority.HIGH, Tier.VIP: Priority.HIGH}.get(tier, Priority.NORMAL)
    roll = rng.random()
    if roll < 0.07 or (topic.key in {"no_signal", "broadband_fault"} and roll < 0.15):
        return Priority.URGENT
    if topic.key == "complaint" and base < Priority.HIGH:
        return Priority.HIGH
    if roll > 0.85 and base == Priority.NORMAL:
        return Priority.LOW
    return base


def _channel(rng: random.Random, customer: CustomerRef) -> Channel:
    options: list[tuple[Channel, int]] = [(Channel.WEB, 1)]
    for kind in customer.identity_kinds:
        options.extend(CHANNELS_BY_IDENTITY.get(kind, ()))
    return rng.choices([c for c, _ in options], weights=[w for _, w in options])[0]


def _template_values(rng: random.Random, customer: CustomerRef, number: int, language: str) -> dict[str, object]:
    side = 0 if language == "zh" else 1
    return {
        "amount": rng.choice(("12.50", "30", "58", "99", "128.60", "260", "388")),
        "plan": customer.plan.name(language),
        "new_plan": rng.choice([plan for plan in PLANS if plan != customer.plan]).name(language),
        "country": rng.choice(COUNTRIES)[side],
        "area": rng.choice(AREAS)[side],
        "days": rng.randint(2, 7),
        "operator": rng.choice(OTHER_OPERATORS),
        "number": number,
        "name": customer.name,
    }


def _tags(rng: random.Random, customer: CustomerRef, topic: Topic, unit: str) -> list[str]:
    tags = set(topic.tags)
    if customer.tier in TOP_TIERS or unit == "vip":
        tags.add("vip")
    if customer.plan.zh.startswith("5G") and topic.unit == "network":
        tags.add("5g")
    if rng.random() < 0.12:
        tags.add(rng.choice(EXTRA_TAGS))
    return sorted(tags)


def _created_audit(ticket_id: int, row: dict[str, Any]) -> dict[str, object]:
    return {
        "ticket_id": ticket_id,
        "customer_id": row["customer_id"],
        "actor_id": None,
        "actor_via": "system",
        "action": "ticket.created",
        "before": None,
        "after": {
            "number": row["number"],
            "subject": row["subject"],
            "status": TicketStatus.NEW.value,
            "priority": int(row["priority"]),
            "channel": row["channel"].value,
            "department_id": row["department_id"],
            "tier": row["tier"].value,
        },
        "created_at": row["created_at"],
    }
