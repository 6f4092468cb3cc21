"""Social channels (issue 3): the customer-service window a reply must fall in.

WhatsApp and Messenger take free-form replies for 24 hours after the customer's last message,
WeChat's customer-service API for 48. The adapter says its window (``reply_window``); the
window starts at the ticket's newest inbound message (no column of its own: the messages are
the record), and a later reply is refused before anything is stored or sent.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import func, select

from channels import registry
from service_hub.core.errors import Conflict
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound.models import ChannelConversation
from service_hub.tickets.models import Direction, Message


def outside_window(conversation: ChannelConversation) -> Conflict | None:
    """The refusal of a reply sent after the channel's customer-service window, or None."""
    adapter = registry.adapter_for(conversation.account.kind)
    window: timedelta | None = getattr(adapter, "reply_window", None)
    if window is None:
        return None
    last_inbound = db.session.scalar(
        select(func.max(Message.created_at)).where(Message.ticket_id == conversation.ticket_id, Message.direction == Direction.INBOUND)
    )
    if last_inbound is not None:
        if last_inbound.tzinfo is None:  # an aggregate may come back naive; it is UTC
            last_inbound = last_inbound.replace(tzinfo=UTC)
        if utcnow() - last_inbound <= window:
            return None
    hours = int(window.total_seconds() // 3600)
    advice = getattr(adapter, "reply_window_advice", f"outside the channel's {hours}-hour customer-service window")
    return Conflict(
        f"The customer's last message was more than {hours} hours ago: {advice}. Nothing was sent.",
        code="outside-reply-window",
        title="Outside the customer-service window",
    )
