"""Reply collisions: did a colleague reply, or is one typing, while this agent wrote their reply?

Checked where it is reliable, at the reply API (tickets.operations.add_message): the client sends
`seen_message_id`, the newest message its view showed. A public reply by another agent after that
one is a reply the sender had not seen. Without seen_message_id, a colleague's reply within the
last UNSEEN_WINDOW_SECONDS counts as probably unseen. Colleagues typing right now (the presence
store) are reported too, but never block: two typists would otherwise block each other.

What users of Help Scout ("traffic cop"), Freshdesk and Zendesk expect: the reply is not silently
sent twice to the customer. So with `if_no_newer_reply: true` an unseen colleague reply refuses
the reply with 409 (code reply-collision, the colleague's replies listed); the client shows them
and sends again with the new seen_message_id, or without the flag to send anyway. Without the
flag the reply is stored and the response's `collision` says what happened meanwhile.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.org.models import Agent
from service_hub.realtime.presence_store import current_store
from service_hub.tickets.models import Direction, Message

UNSEEN_WINDOW_SECONDS = 30
MAX_LISTED = 20


def reply_collision(ticket_id: int, agent_id: int, seen_message_id: int | None) -> dict[str, Any] | None:
    """{newer_replies: [...], typing: [...]} when a colleague replied unseen or is typing; None otherwise."""
    query = (
        select(Message.id, Message.author_agent_id, Agent.name, Message.created_at)
        .join(Agent, Agent.id == Message.author_agent_id)
        .where(Message.ticket_id == ticket_id, Message.direction == Direction.OUTBOUND, Message.author_agent_id != agent_id)
    )
    if seen_message_id is not None:
        query = query.where(Message.id > seen_message_id)
    else:
        query = query.where(Message.created_at >= utcnow() - timedelta(seconds=UNSEEN_WINDOW_SECONDS))
    newer = db.session.execute(query.order_by(Message.id).limit(MAX_LISTED)).all()
    typists = [a for a in current_store().state(ticket_id, time.time()).typing if a != agent_id]
    if not newer and not typists:
        return None
    names = dict(db.session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(typists))).all()) if typists else {}
    return {
        "newer_replies": [
            {"message_id": r.id, "agent_id": r.author_agent_id, "name": r.name, "created_at": r.created_at.isoformat()} for r in newer
        ],
        "typing": [{"agent_id": a, "name": names.get(a, "")} for a in typists],
    }


def collision_detail(collision: dict[str, Any]) -> str:
    names = ", ".join(dict.fromkeys(r["name"] for r in collision["newer_replies"]))
    return f"{names} replied after the newest message you saw; read their reply, then send again (or send without if_no_newer_reply)."
