"""Fixture `world`: two centres with a department each, an agent in each, and tickets on both sides."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from service_hub.org.models import DepartmentKind, Role
from tests.factories import AgentFactory, DepartmentFactory, TicketFactory


@dataclass
class World:
    centre_a: object
    centre_b: object
    dept_a: object
    dept_b: object
    group_a: object
    agent_a: object
    agent_b: object
    supervisor_a: object
    admin: object
    ticket_a: object
    ticket_b: object


@pytest.fixture
def world(app) -> World:
    centre_a = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre A")
    centre_b = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre B")
    dept_a = DepartmentFactory(parent=centre_a, name="Billing A")
    dept_b = DepartmentFactory(parent=centre_b, name="Billing B")
    group_a = DepartmentFactory(parent=dept_a, kind=DepartmentKind.GROUP, name="Billing A hotline group")
    agent_a = AgentFactory(departments=[dept_a])
    agent_b = AgentFactory(departments=[dept_b])
    supervisor_a = AgentFactory(role=Role.SUPERVISOR, departments=[centre_a])
    admin = AgentFactory(role=Role.ADMIN)
    return World(
        centre_a,
        centre_b,
        dept_a,
        dept_b,
        group_a,
        agent_a,
        agent_b,
        supervisor_a,
        admin,
        ticket_a=TicketFactory(department=dept_a, subject="Roaming charges in Japan"),
        ticket_b=TicketFactory(department=dept_b, subject="宽带故障 broadband down"),
    )
