"""Write an AuditEvent for a ticket change, with who did it and through what."""

from __future__ import annotations

from typing import Any

from service_hub.auth.principal import Principal
from service_hub.core.extensions import db
from service_hub.tickets.models import AuditEvent


def audit(
    actor: Principal | None,
    action: str,
    *,
    ticket_id: int | None = None,
    customer_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        ticket_id=ticket_id,
        customer_id=customer_id,
        actor_id=actor.agent.id if actor else None,
        actor_via=actor.via if actor else "system",
        action=action,
        before=before,
        after=after,
    )
    db.session.add(event)
    return event
