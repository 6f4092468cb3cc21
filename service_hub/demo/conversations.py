"""The messages of one demo ticket: the customer's first contact, replies, notes, a resolution."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from service_hub.demo.topics import ACKNOWLEDGEMENTS, CUSTOMER_FOLLOW_UPS, ON_HOLD_NOTES, PENDING_QUESTIONS, THANKS, Texts, Topic
from service_hub.tickets.models import DeliveryStatus, Direction, TicketStatus

MAX_MESSAGES = 5


@dataclass(frozen=True)
class Line:
    """One message before it has a ticket id: who wrote what, when."""

    direction: Direction
    at: datetime
    text: str
    agent_id: int | None  # author of replies and notes; None for the customer


@dataclass(frozen=True)
class Story:
    """The facts of a ticket the conversation has to agree with."""

    topic: Topic
    language: str  # "zh" or "en": which texts the customer and the agent use
    status: TicketStatus
    created_at: datetime
    first_responded_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    now: datetime
    handler_id: int | None  # the agent who replies (the assignee, or whoever picked it up)
    values: dict[str, object]  # template placeholders


def conversation(rng: random.Random, story: Story) -> list[Line]:
    lang, topic = story.language, story.topic

    def say(direction: Direction, at: datetime, texts: Texts) -> Line:
        return Line(
            direction, at, rng.choice(texts[lang]).format(**story.values), None if direction == Direction.INBOUND else story.handler_id
        )

    lines = [say(Direction.INBOUND, story.created_at, topic.inbound)]
    if story.first_responded_at is None:  # untouched: the customer may have nudged once
        if rng.random() < 0.3:
            lines.append(say(Direction.INBOUND, _between(rng, story.created_at, story.now), CUSTOMER_FOLLOW_UPS))
        return lines

    lines.append(say(Direction.OUTBOUND, story.first_responded_at, ACKNOWLEDGEMENTS))
    end = story.solved_at or story.now
    middle: list[tuple[Direction, Texts]] = []
    if rng.random() < 0.5:
        middle.append((Direction.NOTE, topic.notes))
    if rng.random() < 0.35:
        middle.append((Direction.INBOUND, CUSTOMER_FOLLOW_UPS))
    if story.status == TicketStatus.ON_HOLD:
        middle.append((Direction.NOTE, ON_HOLD_NOTES))
    if story.status == TicketStatus.PENDING:  # the last word is ours: we wait for the customer's answer
        middle.append((Direction.OUTBOUND, PENDING_QUESTIONS))
    # Spread the middle over the handling time, in order, never after the ticket was solved.
    times = sorted(_between(rng, story.first_responded_at, end) for _ in middle)
    lines.extend(say(direction, at, texts) for (direction, texts), at in zip(middle, times, strict=True))

    if story.solved_at is not None:
        lines.append(say(Direction.OUTBOUND, story.solved_at, topic.resolution))
        if story.closed_at is not None and rng.random() < 0.5:
            lines.append(say(Direction.INBOUND, _between(rng, story.solved_at, story.closed_at), THANKS))
    if len(lines) > MAX_MESSAGES:  # drop from the middle: first contact and the outcome stay
        lines = lines[:2] + lines[len(lines) - (MAX_MESSAGES - 2) :]
    return lines


def message_rows(rng: random.Random, lines: list[Line], *, channel: str, customer_id: int) -> list[dict[str, object]]:
    """Rows for bulk insert, without ticket_id (the caller adds it once the ticket has an id)."""
    statuses = [_delivery(rng, line.direction, channel) for line in lines]
    return [
        {
            "direction": line.direction,
            "channel": channel,
            "author_agent_id": line.agent_id,
            "author_customer_id": customer_id if line.direction == Direction.INBOUND else None,
            "body_text": line.text,
            "body_html": None,
            "provider_message_id": None,
            "delivery_status": status,
            "delivery_error": "recipient unreachable" if status == DeliveryStatus.FAILED else None,
            "created_at": line.at,
        }
        for line, status in zip(lines, statuses, strict=True)
    ]


def _delivery(rng: random.Random, direction: Direction, channel: str) -> DeliveryStatus:
    if direction != Direction.OUTBOUND:
        return DeliveryStatus.NONE
    if channel in {"wechat", "whatsapp"}:  # these report read receipts
        return rng.choices((DeliveryStatus.READ, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED), weights=(70, 28, 2))[0]
    return rng.choices((DeliveryStatus.DELIVERED, DeliveryStatus.SENT), weights=(80, 20))[0]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.uniform(0.1, 0.9)
