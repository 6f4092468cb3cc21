"""Assignment operations against the database: candidates, filling queues, the claim guard, the cursor."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import scoped_session, sessionmaker

from service_hub.casework import assignment
from service_hub.casework.models import QueueSettings
from service_hub.casework.queue_reads import candidate_pool, open_loads, waiting_tickets
from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.core.types import utcnow
from service_hub.customers.models import Customer, Tier
from service_hub.org.models import Agent, Department, DepartmentKind, Presence
from service_hub.org.tree import DepartmentTree
from service_hub.tickets.models import AuditEvent, Priority, Ticket, TicketStatus
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory, TicketFactory
from workflows.assignment import AgentCandidate
from workflows.assignment import Presence as CandidatePresence


@dataclass
class Desk:
    centre: object
    dept: object
    group: object
    other: object


@pytest.fixture
def desk(app) -> Desk:
    centre = DepartmentFactory(kind=DepartmentKind.CENTRE)
    dept = DepartmentFactory(parent=centre)
    group = DepartmentFactory(parent=dept, kind=DepartmentKind.GROUP)
    other = DepartmentFactory(parent=centre)
    return Desk(centre, dept, group, other)


def waiting(dept, *, minutes_ago: float = 10, tier: Tier = Tier.NORMAL, priority: Priority = Priority.NORMAL, **kwargs) -> Ticket:
    customer = kwargs.pop("customer", None) or CustomerFactory(tier=tier)
    return TicketFactory(
        department=dept,
        customer=customer,
        tier=tier,
        priority=priority,
        status=TicketStatus.NEW,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        **kwargs,
    )


def busy(agent, dept, n: int, status: TicketStatus = TicketStatus.OPEN) -> None:
    for _ in range(n):
        TicketFactory(department=dept, assignee=agent, status=status)


def assignee_of(ticket: Ticket) -> int | None:
    return db.session.scalar(select(Ticket.assignee_id).where(Ticket.id == ticket.id))


def test_offline_and_away_agents_never_get_tickets(desk):
    AgentFactory(departments=[desk.dept], presence=Presence.OFFLINE)
    AgentFactory(departments=[desk.dept], presence=Presence.AWAY)
    ticket = waiting(desk.dept)
    assert assignment.fill_queues([desk.dept.id]) == {}
    assert assignee_of(ticket) is None
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id)).all() == []
    online = AgentFactory(departments=[desk.dept])
    assert assignment.fill_queues([desk.dept.id]) == {ticket.id: online.id}


def test_candidates_are_members_of_the_department_or_a_group_below_with_one_grouped_load(desk):
    in_dept = AgentFactory(departments=[desk.dept])
    in_group = AgentFactory(departments=[desk.group])
    AgentFactory(departments=[desk.centre])  # above the queue: not a candidate
    AgentFactory(departments=[desk.other])
    AgentFactory(departments=[desk.dept], is_active=False)
    busy(in_dept, desk.dept, 2)
    busy(in_dept, desk.dept, 1, TicketStatus.PENDING)
    busy(in_dept, desk.dept, 3, TicketStatus.SOLVED)  # finished work is no load
    pool = candidate_pool([desk.dept.id], DepartmentTree.load())
    assert set(pool.agents) == {in_dept.id, in_group.id}
    assert pool.agents[in_dept.id].open_load == 3 and pool.agents[in_group.id].open_load == 0
    assert open_loads([in_dept.id, in_group.id]) == {in_dept.id: 3}


def test_capacity_is_respected_and_the_rest_wait(desk):
    agent = AgentFactory(departments=[desk.dept], capacity=3)
    busy(agent, desk.dept, 1)
    tickets = [waiting(desk.dept, minutes_ago=30 - i) for i in range(4)]
    assigned = assignment.fill_queues([desk.dept.id])
    # The two oldest (same tier and priority: the longest wait first) fill the two free slots.
    assert assigned == {tickets[0].id: agent.id, tickets[1].id: agent.id}
    assert assignee_of(tickets[2]) is None and assignee_of(tickets[3]) is None
    assert assignment.fill_queues([desk.dept.id]) == {}


def test_least_loaded_takes_the_lowest_share_of_capacity(desk):
    small = AgentFactory(departments=[desk.dept], capacity=2)
    large = AgentFactory(departments=[desk.dept], capacity=10)
    busy(small, desk.dept, 1)  # 1/2
    busy(large, desk.dept, 3)  # 3/10
    ticket = waiting(desk.dept)
    assert assignment.fill_queues([desk.dept.id]) == {ticket.id: large.id}
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id)).one()
    assert audit.action == "ticket.assigned" and audit.actor_id is None and audit.actor_via == "system"
    assert audit.before == {"assignee_id": None, "status": "new"}
    assert audit.after["assignee_id"] == large.id and audit.after["status"] == "open"
    assert "least loaded (3/10)" in audit.after["reason"]


def test_skills_and_the_customers_language_are_required(desk):
    AgentFactory(departments=[desk.dept], skills=["roaming"], languages=["zh"])
    AgentFactory(departments=[desk.dept], skills=["billing"], languages=["en"])
    fits = AgentFactory(departments=[desk.dept], skills=["roaming", "billing"], languages=["en-GB"], capacity=50)
    busy(fits, desk.dept, 10)  # the most loaded, but the only one who can
    ticket = waiting(desk.dept, customer=CustomerFactory(language="en"), custom_fields={"skills": ["roaming"]})
    assert assignment.fill_queues([desk.dept.id]) == {ticket.id: fits.id}


def test_diamond_goes_to_a_senior_agent_first_and_strict_waits_for_one(desk):
    junior = AgentFactory(departments=[desk.dept])
    senior = AgentFactory(departments=[desk.dept], senior=True)
    busy(senior, desk.dept, 3)
    diamond = waiting(desk.dept, tier=Tier.DIAMOND)
    normal = waiting(desk.dept, minutes_ago=20)
    assigned = assignment.fill_queues([desk.dept.id])
    assert assigned == {diamond.id: senior.id, normal.id: junior.id}

    strict = DepartmentFactory(parent=desk.centre)
    db.session.add(QueueSettings(department_id=strict.id, strategy="least_loaded", tier_matching="strict", auto_assign=True))
    AgentFactory(departments=[strict])
    gold = waiting(strict, tier=Tier.GOLD)
    assert assignment.fill_queues([strict.id]) == {}
    late_senior = AgentFactory(departments=[strict], senior=True)
    assert assignment.fill_queues([strict.id]) == {gold.id: late_senior.id}


def test_auto_assign_off_leaves_the_queue_alone(desk):
    db.session.add(QueueSettings(department_id=desk.dept.id, auto_assign=False))
    AgentFactory(departments=[desk.dept])
    waiting(desk.dept)
    assert assignment.fill_queues([desk.dept.id]) == {}


def test_one_pass_over_a_group_and_the_department_above_serves_the_best_ticket_first(desk):
    agent = AgentFactory(departments=[desk.group], capacity=1)
    in_group = waiting(desk.group, minutes_ago=60)
    in_dept = waiting(desk.dept, minutes_ago=1, tier=Tier.GOLD)
    queues = DepartmentTree.load().with_ancestors([desk.group.id])
    assert queues == {desk.group.id, desk.dept.id, desk.centre.id}
    assert assignment.fill_queues(queues) == {in_dept.id: agent.id}
    assert assignee_of(in_group) is None


def test_queue_order_puts_diamond_before_an_older_normal_and_priority_first(desk):
    now = utcnow()
    old_normal = waiting(desk.dept, minutes_ago=600)
    new_diamond = waiting(desk.dept, minutes_ago=1, tier=Tier.DIAMOND)
    urgent_normal = waiting(desk.dept, minutes_ago=1, priority=Priority.URGENT)
    breaching = waiting(desk.dept, minutes_ago=1, next_due_at=now - timedelta(minutes=5))
    order = waiting_tickets([desk.dept.id], now)
    assert [w.id for w in order] == [urgent_normal.id, new_diamond.id, breaching.id, old_normal.id]
    parts = {w.id: w.parts for w in order}
    assert parts[breaching.id]["sla_risk"] == 140.0 and parts[old_normal.id]["sla_risk"] == 0.0
    assert parts[new_diamond.id]["tier"] == 400.0 and parts[urgent_normal.id]["priority"] == 3000.0
    assert all(abs(w.score - sum(w.parts.values())) < 1e-9 for w in order)


def test_a_second_claim_of_the_same_ticket_is_a_no_op(desk):
    first = AgentFactory(departments=[desk.dept])
    second = AgentFactory(departments=[desk.dept])
    ticket = waiting(desk.dept)
    version = ticket.version
    # Both "processes" read the queue before either assigns.
    stale = waiting_tickets([desk.dept.id], utcnow())[0]
    candidate = {a.id: AgentCandidate(agent_id=a.id, presence=CandidatePresence.ONLINE, open_load=0, capacity=5) for a in (first, second)}
    assert assignment._claim(stale, candidate[first.id], "first", utcnow()) is True
    assert assignment._claim(stale, candidate[second.id], "second", utcnow()) is False
    db.session.refresh(ticket)
    assert ticket.assignee_id == first.id and ticket.status == TicketStatus.OPEN and ticket.version == version + 1
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id)).all()
    assert [a.after["reason"] for a in audits] == ["first"]
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "ticket.assigned")).all()
    assert len(events) == 1
    assert set(events[0].rooms) == {f"ticket:{ticket.id}", f"department:{desk.dept.id}", f"agent:{first.id}"}
    # A whole second fill finds nothing to do either.
    assert assignment.fill_queues([desk.dept.id]) == {}


def test_the_claim_recounts_the_agents_load(desk):
    agent = AgentFactory(departments=[desk.dept], capacity=1)
    ticket = waiting(desk.dept)
    stale = waiting_tickets([desk.dept.id], utcnow())[0]
    busy(agent, desk.dept, 1)  # another process filled the agent after we read their load
    candidate = AgentCandidate(agent_id=agent.id, presence=CandidatePresence.ONLINE, open_load=0, capacity=1)
    assert assignment._claim(stale, candidate, "late", utcnow()) is False
    assert assignee_of(ticket) is None


def test_round_robin_takes_turns_and_moves_the_cursor_only_if_nobody_else_did(desk):
    db.session.add(QueueSettings(department_id=desk.dept.id, strategy="round_robin"))
    agents = [AgentFactory(departments=[desk.dept]) for _ in range(3)]
    tickets = [waiting(desk.dept, minutes_ago=60 - i) for i in range(4)]
    assigned = assignment.fill_queues([desk.dept.id])
    assert [assigned[t.id] for t in tickets] == [agents[0].id, agents[1].id, agents[2].id, agents[0].id]
    # A second fill in the same transaction goes on from the stored cursor.
    later = waiting(desk.dept, minutes_ago=1)
    assert assignment.fill_queues([desk.dept.id]) == {later.id: agents[1].id}
    row = db.session.get(QueueSettings, desk.dept.id)
    db.session.refresh(row)
    assert row.round_robin_cursor == agents[1].id

    # A stale reader must not move the cursor back over a newer value.
    configs = {desk.dept.id: assignment.queue_configs([desk.dept.id])[desk.dept.id]}
    row.round_robin_cursor = agents[0].id
    db.session.flush()
    assignment._store_cursors(configs, {desk.dept.id: agents[2].id})
    db.session.refresh(row)
    assert row.round_robin_cursor == agents[0].id


def test_a_solved_ticket_frees_a_slot_and_an_unassigned_one_is_not_handed_straight_back(desk):
    agent = AgentFactory(departments=[desk.dept], capacity=1)
    colleague = AgentFactory(departments=[desk.dept], capacity=1, presence=Presence.OFFLINE)
    mine = TicketFactory(department=desk.dept, assignee=agent, status=TicketStatus.OPEN)
    queued = waiting(desk.dept)
    mine.status = TicketStatus.SOLVED
    db.session.flush()
    assert assignment.refill_after_update(mine, previous_assignee_id=agent.id, previous_status="open") == {queued.id: agent.id}

    colleague.presence = Presence.ONLINE
    db.session.flush()
    db.session.refresh(queued)
    queued.assignee_id = None  # the agent hands it back
    db.session.flush()
    assert assignment.refill_after_update(queued, previous_assignee_id=agent.id, previous_status="open") == {queued.id: colleague.id}


def test_a_fill_reads_each_queue_with_the_same_queries_however_many_agents(desk, app):
    def statements_for_one_fill(agent_count: int, dept) -> int:
        for _ in range(agent_count):
            busy(AgentFactory(departments=[dept], capacity=2), dept, 1)
        waiting(dept)
        seen: list[str] = []
        engine = db.session.get_bind()
        listener = lambda *args: seen.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
        sa_event.listen(engine, "before_cursor_execute", listener)
        try:
            assert len(assignment.fill_queues([dept.id])) == 1
        finally:
            sa_event.remove(engine, "before_cursor_execute", listener)
        return sum(1 for s in seen if s.lstrip().upper().startswith("SELECT"))

    assert statements_for_one_fill(2, desk.dept) == statements_for_one_fill(12, desk.other)


def test_two_fills_at_once_never_assign_a_ticket_twice_or_overfill_an_agent(app, database_url, backend, monkeypatch):
    """Two sessions on their own connections read the same queue, then race to claim (PostgreSQL)."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers: the second one fails with SQLITE_BUSY and cannot double-assign")
    engine = sa.create_engine(database_url)
    sessions = scoped_session(sessionmaker(bind=engine))  # one session (and connection) per thread
    monkeypatch.setattr(db, "session", sessions)
    dept = DepartmentFactory(kind=DepartmentKind.CENTRE)
    agents = [AgentFactory(departments=[dept], capacity=2) for _ in range(4)]
    tickets = [waiting(dept, minutes_ago=100 - i) for i in range(12)]
    sessions.commit()
    ids = {"departments": [dept.id], "agents": [a.id for a in agents], "tickets": [t.id for t in tickets]}
    customers = [t.customer_id for t in tickets]
    sessions.remove()

    both_read = threading.Barrier(2)
    local = threading.local()
    real_claim = assignment._claim

    def claim_after_both_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not getattr(local, "waited", False):
            local.waited = True
            both_read.wait(timeout=30)
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(assignment, "_claim", claim_after_both_read)
    results: list[dict[int, int]] = []

    def fill() -> None:
        try:
            results.append(assignment.fill_queues([dept.id]))
            sessions.commit()
        finally:
            sessions.remove()

    threads = [threading.Thread(target=fill) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(results) == 2
        assert sum(len(r) for r in results) == 8  # 4 agents x 2 slots, whoever won each claim
        with engine.connect() as conn:
            rows = conn.execute(sa.select(Ticket.id, Ticket.assignee_id).where(Ticket.id.in_(ids["tickets"]))).all()
            claims = conn.execute(
                sa.select(AuditEvent.ticket_id).where(AuditEvent.ticket_id.in_(ids["tickets"]), AuditEvent.action == "ticket.assigned")
            ).all()
        loads = Counter(assignee for _, assignee in rows if assignee is not None)
        assert sorted(loads.values()) == [2, 2, 2, 2]
        assert len(claims) == 8 and len({c.ticket_id for c in claims}) == 8
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
            conn.execute(sa.delete(AuditEvent).where(AuditEvent.ticket_id.in_(ids["tickets"])))
            conn.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change"))
            conn.execute(sa.delete(OutboxEvent).where(OutboxEvent.event_type == "ticket.assigned"))
            conn.execute(sa.delete(Ticket).where(Ticket.id.in_(ids["tickets"])))
            conn.execute(sa.delete(Customer).where(Customer.id.in_(customers)))
            conn.execute(sa.delete(Agent).where(Agent.id.in_(ids["agents"])))
            conn.execute(sa.delete(Department).where(Department.id.in_(ids["departments"])))
        engine.dispose()
