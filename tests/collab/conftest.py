"""Shared set-up of the collaboration tests: colleagues of agent_a in Billing A, and small helpers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from service_hub.collab.models import Notification
from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from tests.factories import AgentFactory


@pytest.fixture
def colleagues(world) -> list[Any]:
    """Two more agents of Billing A; the first has a name with a space and Chinese characters."""
    return [
        AgentFactory(name="Li Wei 李伟", departments=[world.dept_a]),
        AgentFactory(name="Zhang San", departments=[world.dept_a]),
    ]


def token(agent_or_department: Any, kind: str = "agent") -> str:
    return f"@[{agent_or_department.name}]({kind}:{agent_or_department.id})"


def note(api: Any, ticket_id: int, text: str, expect: int = 201) -> Any:
    r = api.post(f"/api/v1/tickets/{ticket_id}/messages", json={"kind": "note", "body_text": text})
    assert r.status_code == expect, r.json
    return r.json


def notifications_of(agent_id: int) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.recipient_id == agent_id).order_by(Notification.id)))


def events(event_type: str) -> list[OutboxEvent]:
    return list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)))
