"""Fixtures for canned responses: two centres, a department each, a group, their people and a ticket."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from service_hub.canned.models import CannedResponse
from service_hub.core.extensions import db
from service_hub.org.models import DepartmentKind, Role
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory, TicketFactory


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    centre_a = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre A")
    centre_b = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre B")
    dept_a = DepartmentFactory(parent=centre_a, name="Front line A")
    group_a = DepartmentFactory(parent=dept_a, kind=DepartmentKind.GROUP, name="Roaming group A")
    dept_b = DepartmentFactory(parent=centre_b, name="Billing B")
    customer = CustomerFactory(name="Mei Chen", customer_number="C-1001")
    return SimpleNamespace(
        centre_a=centre_a,
        dept_a=dept_a,
        group_a=group_a,
        dept_b=dept_b,
        agent_a=AgentFactory(name="Ada Lovelace", departments=[dept_a]),
        group_agent_a=AgentFactory(departments=[group_a]),
        agent_b=AgentFactory(departments=[dept_b]),
        supervisor_a=AgentFactory(role=Role.SUPERVISOR, departments=[centre_a]),
        admin=AgentFactory(role=Role.ADMIN),
        customer=customer,
        ticket_a=TicketFactory(department=dept_a, customer=customer, subject="Roaming charges in Bangkok"),
        ticket_b=TicketFactory(department=dept_b),
    )


@pytest.fixture
def canned():  # type: ignore[no-untyped-def]
    """canned(title, body, department=None, shortcut=None) -> a stored CannedResponse."""

    def _make(title: str = "Greeting", body: str = "Hello", department=None, shortcut: str | None = None, language=None):  # type: ignore[no-untyped-def]
        row = CannedResponse(
            title=title, body=body, department_id=department.id if department else None, shortcut=shortcut, language=language
        )
        db.session.add(row)
        db.session.flush()
        return row

    return _make
