"""Fixtures for the customers API: two departments, their agents and customers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from service_hub.customers.models import IdentityKind
from service_hub.org.models import Role
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory, IdentityFactory, TicketFactory


@pytest.fixture
def api_as(login_as):  # type: ignore[no-untyped-def]
    """api_as(agent) -> that agent's logged-in browser client (each request has its own `g`)."""
    return login_as


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    """Department A and B; Alice has a ticket in A, Bob only in B."""
    dept_a, dept_b = DepartmentFactory(), DepartmentFactory()
    agent_a = AgentFactory(departments=[dept_a])
    back_office_a = AgentFactory(role=Role.BACK_OFFICE, departments=[dept_a])
    supervisor_a = AgentFactory(role=Role.SUPERVISOR, departments=[dept_a])
    supervisor_b = AgentFactory(role=Role.SUPERVISOR, departments=[dept_b])
    admin = AgentFactory(role=Role.ADMIN)
    alice = CustomerFactory(name="Alice Wang")
    alice_phone = IdentityFactory(customer=alice, kind=IdentityKind.PHONE, value="+8613800138000")
    alice_ticket = TicketFactory(customer=alice, department=dept_a)
    bob = CustomerFactory(name="Bob Li", customer_number="C-BOB")
    bob_mail = IdentityFactory(customer=bob, kind=IdentityKind.EMAIL, value="bob@mail.test")
    bob_ticket = TicketFactory(customer=bob, department=dept_b)
    return SimpleNamespace(
        dept_a=dept_a,
        dept_b=dept_b,
        agent_a=agent_a,
        back_office_a=back_office_a,
        supervisor_a=supervisor_a,
        supervisor_b=supervisor_b,
        admin=admin,
        alice=alice,
        alice_phone=alice_phone,
        alice_ticket=alice_ticket,
        bob=bob,
        bob_mail=bob_mail,
        bob_ticket=bob_ticket,
    )
