"""`flask seed-demo`: the demo operator is complete, consistent and usable (logins work)."""

from __future__ import annotations

import re
from collections import Counter as Tally
from datetime import timedelta

import phonenumbers
import pytest
from sqlalchemy import func, select

from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.customers.identities import normalise_identity
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind, Tier
from service_hub.demo.content import DEPARTMENTS, FRONTLINE_GROUPS, WECHAT_ACCOUNT
from service_hub.org.models import Agent, Department, DepartmentKind, DepartmentMembership, Role
from service_hub.tickets.models import ACTIVE_STATUSES, AuditEvent, Counter, Direction, Message, Priority, Ticket, TicketStatus
from tests.conftest import login

SMALL = ["--customers", "200", "--tickets", "400"]


def _seed(app, *extra: str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["seed-demo", *SMALL, *extra])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def seeded(app):  # type: ignore[no-untyped-def]
    return _seed(app)


def test_six_centres_each_with_the_six_departments_and_front_line_groups(app, seeded):
    centres = db.session.scalars(select(Department).where(Department.kind == DepartmentKind.CENTRE)).all()
    assert len(centres) == 6
    for centre in centres:
        departments = {d.code: d for d in centre.children}
        assert set(departments) == {f"{centre.code}-{spec.key}" for spec in DEPARTMENTS}
        assert all(d.kind == DepartmentKind.DEPARTMENT for d in departments.values())
        groups = departments[f"{centre.code}-frontline"].children
        assert {g.code for g in groups} == {f"{centre.code}-frontline-{spec.key}" for spec in FRONTLINE_GROUPS}
        assert all(g.kind == DepartmentKind.GROUP for g in groups)


def test_every_role_with_sensible_memberships(app, seeded):
    agents = db.session.scalars(select(Agent)).all()
    assert {a.role for a in agents} == set(Role)
    assert 1 <= sum(a.role == Role.ADMIN for a in agents) <= 2
    by_id = {d.id: d for d in db.session.scalars(select(Department))}
    supervised = Tally()
    for agent in agents:
        assert agent.memberships, agent.email
        assert agent.languages and "zh" in agent.languages
        kinds = {by_id[m.department_id].kind for m in agent.memberships}
        if agent.role == Role.SUPERVISOR:
            assert kinds == {DepartmentKind.CENTRE}
            supervised.update(m.department_id for m in agent.memberships)
        if agent.role == Role.BACK_OFFICE:
            codes = {by_id[m.department_id].code.split("-", 1)[1] for m in agent.memberships}
            assert codes <= {"billing", "network", "complaints", "field"}
    assert sorted(supervised.values()) == [1] * 6
    front_line = db.session.scalars(
        select(Agent).join(DepartmentMembership).join(Department).where(Department.code.like("%-frontline-%"))
    ).all()
    assert front_line and all(a.role == Role.AGENT for a in front_line)


def test_tickets_cover_every_status_priority_and_keep_their_clocks_consistent(app, seeded):
    now = utcnow()
    tickets = db.session.scalars(select(Ticket)).all()
    assert len(tickets) == 400
    assert {t.status for t in tickets} == set(TicketStatus)
    assert {t.priority for t in tickets} == set(Priority)
    assert len({t.channel for t in tickets}) >= 5
    assert all(now - timedelta(days=61) < t.created_at <= now for t in tickets)
    tiers = dict(db.session.execute(select(Customer.id, Customer.tier)).all())
    for t in tickets:
        assert t.version == 1
        assert t.tier == tiers[t.customer_id]
        assert t.first_response_due_at and t.resolution_due_at
        if t.status in ACTIVE_STATUSES:
            assert t.solved_at is None and t.closed_at is None
        else:
            assert t.first_responded_at and t.solved_at and t.created_at <= t.first_responded_at <= t.solved_at <= now
            assert t.next_due_at is None
            assert (t.closed_at is not None) == (t.status == TicketStatus.CLOSED)
            assert t.closed_at is None or t.solved_at <= t.closed_at <= now
        if t.status == TicketStatus.NEW:
            assert t.first_responded_at is None and t.next_due_at == t.first_response_due_at
        if t.status == TicketStatus.OPEN:
            assert t.next_due_at == t.resolution_due_at
        if t.status in {TicketStatus.PENDING, TicketStatus.ON_HOLD}:  # SLA paused
            assert t.next_due_at is None
    running = [t.next_due_at for t in tickets if t.next_due_at is not None]
    assert any(due < now for due in running), "some tickets should be overdue"
    assert any(now <= due < now + timedelta(hours=24) for due in running), "some should fall due soon"
    assert any(t.tags for t in tickets) and any(t.assignee_id for t in tickets) and any(t.assignee_id is None for t in tickets)


def test_every_assignee_is_a_member_of_the_department_or_a_group_below_it(app, seeded):
    memberships = db.session.execute(select(DepartmentMembership.agent_id, DepartmentMembership.department_id)).all()
    parents = dict(db.session.execute(select(Department.id, Department.parent_id)).all())
    kinds = dict(db.session.execute(select(Department.id, Department.kind)).all())
    covers: set[tuple[int, int]] = set()
    for agent_id, department_id in memberships:
        covers.add((agent_id, department_id))
        if kinds[department_id] == DepartmentKind.GROUP:
            covers.add((agent_id, parents[department_id]))
    assigned = db.session.execute(select(Ticket.assignee_id, Ticket.department_id).where(Ticket.assignee_id.is_not(None))).all()
    assert assigned
    assert all((agent_id, department_id) in covers for agent_id, department_id in assigned)
    assert all(kinds[department_id] != DepartmentKind.CENTRE for _, department_id in assigned)


def test_messages_tell_a_story_in_order(app, seeded):
    tickets = {t.id: t for t in db.session.scalars(select(Ticket))}
    per_ticket: dict[int, list[Message]] = {}
    for message in db.session.scalars(select(Message).order_by(Message.ticket_id, Message.created_at, Message.id)):
        per_ticket.setdefault(message.ticket_id, []).append(message)
    assert set(per_ticket) == set(tickets)
    for ticket_id, messages in per_ticket.items():
        ticket = tickets[ticket_id]
        assert 1 <= len(messages) <= 5
        assert messages[0].direction == Direction.INBOUND and messages[0].created_at == ticket.created_at
        assert messages[-1].created_at == ticket.last_message_at
        assert all(m.body_text and "{" not in m.body_text for m in messages)
        outbound = [m for m in messages if m.direction == Direction.OUTBOUND]
        if ticket.first_responded_at is None:
            assert not outbound
        else:
            assert outbound[0].created_at == ticket.first_responded_at and outbound[0].author_agent_id
    bodies = " ".join(m.body_text for ms in per_ticket.values() for m in ms)
    assert re.search(r"[\u4e00-\u9fff]", bodies) and re.search(r"\b(the|your|please)\b", bodies, re.IGNORECASE)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "ticket.created")) == len(tickets)


def test_ticket_numbers_are_unique_and_the_counter_continues_after_them(app, seeded):
    numbers = db.session.scalars(select(Ticket.number)).all()
    assert len(set(numbers)) == len(numbers)
    assert min(numbers) >= 100001
    assert db.session.get(Counter, "ticket_number").value == max(numbers)


def test_customers_have_normalised_unique_identities_on_several_channels(app, seeded):
    customers = db.session.scalars(select(Customer)).all()
    assert len(customers) == 200
    assert len({c.customer_number for c in customers}) == 200
    tiers = Tally(c.tier for c in customers)
    assert tiers.most_common(1)[0][0] == Tier.NORMAL and tiers[Tier.DIAMOND] < 20
    identities = db.session.scalars(select(ContactIdentity)).all()
    assert {i.customer_id for i in identities} == {c.id for c in customers}
    assert len({(i.kind, i.account, i.value) for i in identities}) == len(identities)
    assert {IdentityKind.PHONE, IdentityKind.EMAIL, IdentityKind.WECHAT, IdentityKind.WHATSAPP} <= {i.kind for i in identities}
    assert any(n > 1 for n in Tally(i.customer_id for i in identities).values())
    for identity in identities:
        assert normalise_identity(identity.kind, identity.value) == identity.value
        if identity.kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
            assert phonenumbers.is_valid_number(phonenumbers.parse(identity.value))
        if identity.kind == IdentityKind.PHONE:
            assert identity.value.startswith("+86")
        assert identity.account == (WECHAT_ACCOUNT if identity.kind == IdentityKind.WECHAT else "")


def test_if_empty_does_nothing_the_second_time(app, seeded):
    counts = [db.session.scalar(select(func.count()).select_from(model)) for model in (Agent, Customer, Ticket)]
    again = _seed(app, "--if-empty")
    assert "not seeded" in again.output
    assert [db.session.scalar(select(func.count()).select_from(model)) for model in (Agent, Customer, Ticket)] == counts


def test_seeding_a_non_empty_database_without_if_empty_is_refused(app, seeded):
    result = app.test_cli_runner().invoke(args=["seed-demo", *SMALL])
    assert result.exit_code != 0
    assert "already has agents" in result.output


def test_printed_demo_logins_can_log_in(app, seeded):
    password = re.search(r"^\s+password: (\S+)$", seeded.output, re.MULTILINE).group(1)
    rows = re.findall(r"^\s+(\S+@\S+)\s+(\w+)\s+(\S+)", seeded.output, re.MULTILINE)
    assert {role for _, role, _ in rows} >= {"admin", "supervisor", "agent", "back_office"}
    for email, role, _department in rows:
        me = login(app, email, password).get("/api/v1/me")
        assert me.status_code == 200
        assert me.json["email"] == email and me.json["role"] == role
