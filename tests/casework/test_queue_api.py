"""The queues API end to end: auto-assignment at intake, presence, transfers, the queue view and its settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.core.types import utcnow
from service_hub.customers.models import Tier
from service_hub.org.models import Presence
from service_hub.tickets.models import AuditEvent, Priority, Ticket, TicketStatus
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory, TicketFactory


@pytest.fixture
def desk(world):
    """A fresh department in centre A: supervisor_a sees it and opens tickets there, but is no candidate."""
    return DepartmentFactory(parent=world.centre_a, name="Roaming desk")


def open_ticket(api, department, tier: Tier = Tier.NORMAL, priority: str = "normal", **extra) -> dict:
    customer = CustomerFactory(tier=tier, **extra.pop("customer", {}))
    body = {"subject": f"{tier.value} customer", "department_id": department.id, "customer_id": customer.id, "priority": priority}
    r = api.post("/api/v1/tickets", json=body | extra)
    assert r.status_code == 201, r.json
    return r.json


def audits(ticket_id: int, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket_id, AuditEvent.action == action)))


def fresh(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    db.session.refresh(ticket)
    return ticket


# Auto-assignment at intake


def test_round_robin_is_fair_through_the_api(world, desk, login_as):
    agents = [AgentFactory(departments=[desk]) for _ in range(3)]
    api = login_as(world.supervisor_a)
    r = api.put(
        f"/api/v1/departments/{desk.id}/queue-settings", json={"strategy": "round_robin", "tier_matching": "preferred", "auto_assign": True}
    )
    assert r.status_code == 200, r.json
    created = [open_ticket(api, desk) for _ in range(6)]
    assert [t["assignee"]["id"] for t in created] == [a.id for a in agents] * 2
    assert all(t["status"] == "open" for t in created)
    settings = api.get(f"/api/v1/departments/{desk.id}/queue-settings").json
    assert settings == {
        "department_id": desk.id,
        "strategy": "round_robin",
        "tier_matching": "preferred",
        "auto_assign": True,
        "round_robin_cursor": agents[2].id,
        "stored": True,
    }
    audit = audits(created[0]["id"], "ticket.assigned")[0]
    assert audit.actor_via == "system" and audit.after["reason"].startswith(f"agent {agents[0].id}: round robin")


def test_least_loaded_through_the_api(world, desk, login_as):
    loaded = AgentFactory(departments=[desk])
    idle = AgentFactory(departments=[desk])
    for _ in range(2):
        TicketFactory(department=desk, assignee=loaded)
    api = login_as(world.supervisor_a)
    assert open_ticket(api, desk)["assignee"]["id"] == idle.id


def test_offline_agents_never_get_tickets_through_the_api(world, desk, login_as):
    AgentFactory(departments=[desk], presence=Presence.OFFLINE)
    AgentFactory(departments=[desk], presence=Presence.AWAY)
    ticket = open_ticket(login_as(world.supervisor_a), desk)
    assert ticket["assignee"] is None and ticket["status"] == "new"
    assert audits(ticket["id"], "ticket.assigned") == []


def test_an_admin_makes_an_agent_senior_and_diamond_customers_go_to_them(world, desk, login_as):
    junior = AgentFactory(departments=[desk])
    senior = AgentFactory(departments=[desk])
    TicketFactory(department=desk, assignee=senior)
    r = login_as(world.admin).patch(f"/api/v1/agents/{senior.id}", json={"senior": True})
    assert r.status_code == 200 and r.json["senior"] is True
    api = login_as(world.supervisor_a)
    assert open_ticket(api, desk, Tier.DIAMOND)["assignee"]["id"] == senior.id
    assert open_ticket(api, desk, Tier.NORMAL)["assignee"]["id"] == junior.id
    bad = login_as(world.agent_a).patch(f"/api/v1/agents/{senior.id}", json={"senior": False})
    assert bad.status_code == 403


def test_admins_set_department_functions(world, login_as):
    api = login_as(world.admin)
    r = api.patch(f"/api/v1/departments/{world.dept_a.id}", json={"functions": ["billing", "front_line", "billing"]})
    assert r.status_code == 200 and r.json["functions"] == ["billing", "front_line"]
    assert api.patch(f"/api/v1/departments/{world.dept_a.id}", json={"functions": ["Front Line"]}).status_code == 422


# Waiting, presence and queue order


def test_tickets_wait_until_an_agent_comes_online_then_go_in_queue_order(world, desk, login_as):
    agent = AgentFactory(departments=[desk], presence=Presence.OFFLINE, capacity=1)
    supervisor = login_as(world.supervisor_a)
    normal = open_ticket(supervisor, desk, Tier.NORMAL)
    diamond = open_ticket(supervisor, desk, Tier.DIAMOND)  # newer, same priority
    assert normal["assignee"] is None and diamond["assignee"] is None

    queue = supervisor.get(f"/api/v1/departments/{desk.id}/queue").json
    assert [t["id"] for t in queue["items"]] == [diamond["id"], normal["id"]] and queue["total_waiting"] == 2

    api = login_as(agent)
    r = api.patch("/api/v1/me/presence", json={"presence": "online"})
    assert r.status_code == 200, r.json
    assert r.json == {"id": agent.id, "presence": "online", "assigned_ticket_ids": [diamond["id"]]}
    assert fresh(diamond["id"]).assignee_id == agent.id and fresh(normal["id"]).assignee_id is None
    presence = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "agent.presence")).one()
    assert presence.payload == {"agent_id": agent.id, "presence": "online", "previous": "offline"}
    assert f"agent:{agent.id}" in presence.rooms and f"department:{desk.id}" in presence.rooms

    # Solving frees the slot: the waiting ticket is assigned in the same request.
    current = api.get(f"/api/v1/tickets/{diamond['id']}").json
    solved = api.patch(f"/api/v1/tickets/{diamond['id']}", json={"version": current["version"], "status": "solved"})
    assert solved.status_code == 200, solved.json
    assert fresh(normal["id"]).assignee_id == agent.id
    assert supervisor.get(f"/api/v1/departments/{desk.id}/queue").json["items"] == []


def test_going_away_or_offline_stops_new_work(world, desk, login_as):
    agent = AgentFactory(departments=[desk])
    api = login_as(agent)
    assert api.patch("/api/v1/me/presence", json={"presence": "away"}).json["presence"] == "away"
    ticket = open_ticket(login_as(world.supervisor_a), desk)
    assert ticket["assignee"] is None
    assert api.patch("/api/v1/me/presence", json={"presence": "busy"}).status_code == 422
    assert api.patch("/api/v1/me/presence", json={"presence": "online"}).json["assigned_ticket_ids"] == [ticket["id"]]


def test_unassigning_returns_the_ticket_to_the_queue_for_someone_else(world, desk, login_as):
    agent = AgentFactory(departments=[desk])
    ticket = open_ticket(login_as(world.supervisor_a), desk)
    assert ticket["assignee"]["id"] == agent.id
    colleague = AgentFactory(departments=[desk])
    api = login_as(agent)
    r = api.patch(f"/api/v1/tickets/{ticket['id']}", json={"version": ticket["version"], "assignee_id": None})
    assert r.status_code == 200, r.json
    assert r.json["assignee"]["id"] == colleague.id


# Transfer


def test_transfer_to_an_agent_with_a_reason_is_audited(world, desk, login_as):
    owner = AgentFactory(departments=[desk])
    ticket = open_ticket(login_as(world.supervisor_a), desk)
    target = AgentFactory(departments=[desk], presence=Presence.AWAY)  # away: fine for a deliberate transfer
    api = login_as(owner)
    r = api.post(
        f"/api/v1/tickets/{ticket['id']}/transfer",
        json={"assignee_id": target.id, "reason": "  Speaks the customer's dialect ", "version": ticket["version"]},
    )
    assert r.status_code == 200, r.json
    assert r.json["assignee"]["id"] == target.id and r.json["version"] == ticket["version"] + 1
    audit = audits(ticket["id"], "ticket.transferred")[0]
    assert audit.actor_id == owner.id
    assert audit.before == {"department_id": desk.id, "assignee_id": owner.id, "status": "open"}
    assert audit.after == {"department_id": desk.id, "assignee_id": target.id, "status": "open", "reason": "Speaks the customer's dialect"}
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "ticket.transferred")).one()
    assert event.payload["reason"] == "Speaks the customer's dialect"
    assert {f"agent:{owner.id}", f"agent:{target.id}", f"ticket:{ticket['id']}"} <= set(event.rooms)
    # The stale version now loses.
    stale = api.post(
        f"/api/v1/tickets/{ticket['id']}/transfer", json={"assignee_id": owner.id, "reason": "back", "version": ticket["version"]}
    )
    assert stale.status_code == 409


def test_transfer_needs_a_reason_and_an_able_agent(world, desk, login_as):
    owner = AgentFactory(departments=[desk], skills=["roaming"])
    ticket = open_ticket(login_as(world.supervisor_a), desk, custom_fields={"skills": ["roaming"]})
    offline = AgentFactory(departments=[desk], presence=Presence.OFFLINE, skills=["roaming"])
    full = AgentFactory(departments=[desk], capacity=0, skills=["roaming"])
    unskilled = AgentFactory(departments=[desk])
    outsider = AgentFactory(departments=[world.dept_b], skills=["roaming"])
    api = login_as(owner)
    url = f"/api/v1/tickets/{ticket['id']}/transfer"
    version = ticket["version"]

    missing = api.post(url, json={"assignee_id": offline.id, "version": version})
    assert missing.status_code == 422 and "reason" in missing.json["errors"]["json"]
    blank = api.post(url, json={"assignee_id": offline.id, "reason": "   ", "version": version})
    assert blank.status_code == 422
    too_long = api.post(url, json={"assignee_id": offline.id, "reason": "x" * 501, "version": version})
    assert too_long.status_code == 422

    refused = {
        offline.id: "is offline",
        full.id: "is at capacity (0/0)",
        unskilled.id: "lacks skills [roaming]",
        outsider.id: "does not work in that department",
    }
    for agent_id, why in refused.items():
        r = api.post(url, json={"assignee_id": agent_id, "reason": "handover", "version": version})
        assert r.status_code == 422 and why in r.json["detail"], r.json
    nowhere = api.post(url, json={"reason": "handover", "version": version})
    assert nowhere.status_code == 422
    assert audits(ticket["id"], "ticket.transferred") == []
    assert fresh(ticket["id"]).assignee_id == owner.id


def test_transfer_to_another_department_joins_its_queue_and_frees_the_owner(world, desk, login_as):
    owner = AgentFactory(departments=[desk], capacity=1)
    supervisor = login_as(world.supervisor_a)
    mine = open_ticket(supervisor, desk)
    queued = open_ticket(supervisor, desk)
    assert mine["assignee"]["id"] == owner.id and queued["assignee"] is None
    billing = DepartmentFactory(parent=world.centre_a)
    billing_agent = AgentFactory(departments=[billing])
    r = login_as(owner).post(
        f"/api/v1/tickets/{mine['id']}/transfer",
        json={"department_id": billing.id, "reason": "A billing question", "version": mine["version"]},
    )
    assert r.status_code == 200, r.json
    assert r.json["department"]["id"] == billing.id and r.json["assignee"]["id"] == billing_agent.id
    assert fresh(queued["id"]).assignee_id == owner.id  # the freed slot took the waiting ticket
    assert audits(mine["id"], "ticket.transferred")[0].after["assignee_id"] is None


def test_transfer_of_a_ticket_i_cannot_see_is_404(world, login_as):
    r = login_as(world.agent_b).post(
        f"/api/v1/tickets/{world.ticket_a.id}/transfer", json={"assignee_id": world.agent_b.id, "reason": "mine", "version": 1}
    )
    assert r.status_code == 404


# The queue view and its settings


def test_queue_lists_waiting_tickets_by_score_with_parts(world, desk, login_as):
    now = utcnow()

    def waiting(tier: Tier, priority: Priority, minutes: int, **kwargs):  # type: ignore[no-untyped-def]
        return TicketFactory(
            department=desk,
            customer=CustomerFactory(tier=tier),
            tier=tier,
            priority=priority,
            status=TicketStatus.NEW,
            created_at=now - timedelta(minutes=minutes),
            **kwargs,
        )

    old_normal = waiting(Tier.NORMAL, Priority.HIGH, 900)
    gold = waiting(Tier.GOLD, Priority.HIGH, 1)
    urgent = waiting(Tier.NORMAL, Priority.URGENT, 1)
    low_diamond = waiting(Tier.DIAMOND, Priority.LOW, 900, next_due_at=now - timedelta(hours=1))
    TicketFactory(department=desk, assignee=AgentFactory(departments=[desk], presence=Presence.OFFLINE))  # assigned: not waiting
    TicketFactory(department=desk, status=TicketStatus.SOLVED)  # finished: not waiting

    api = login_as(world.supervisor_a)
    r = api.get(f"/api/v1/departments/{desk.id}/queue")
    assert r.status_code == 200, r.json
    items = r.json["items"]
    assert [t["id"] for t in items] == [urgent.id, gold.id, old_normal.id, low_diamond.id]
    assert r.json["total_waiting"] == 4
    first = items[0]
    assert first["priority"] == "urgent" and first["tier"] == "normal" and first["sla_remaining_seconds"] is None
    assert set(first["score_parts"]) == {"priority", "tier", "waiting", "sla_risk"}
    assert items[1]["score_parts"]["tier"] == 300.0 and items[3]["score_parts"]["sla_risk"] == 140.0
    assert items[3]["sla_remaining_seconds"] < 0
    for item in items:
        assert item["score"] == pytest.approx(sum(item["score_parts"].values()), abs=0.01)
    assert [t["id"] for t in api.get(f"/api/v1/departments/{desk.id}/queue?limit=2").json["items"]] == [urgent.id, gold.id]
    assert api.get(f"/api/v1/departments/{desk.id}/queue?limit=0").status_code == 400


def test_queue_and_settings_of_a_department_i_cannot_see_are_404(world, login_as):
    api = login_as(world.agent_b)
    assert api.get(f"/api/v1/departments/{world.dept_a.id}/queue").status_code == 404
    assert api.get(f"/api/v1/departments/{world.dept_a.id}/queue-settings").status_code == 404
    assert api.get("/api/v1/departments/999999/queue").status_code == 404
    assert api.get(f"/api/v1/departments/{world.dept_b.id}/queue").status_code == 200
    # A supervisor changes only the queues of their own centre.
    supervisor = login_as(world.supervisor_a)
    body = {"strategy": "least_loaded", "tier_matching": "strict", "auto_assign": True}
    assert supervisor.put(f"/api/v1/departments/{world.dept_b.id}/queue-settings", json=body).status_code == 404


def test_queue_settings_defaults_validation_and_who_may_change_them(world, login_as):
    url = f"/api/v1/departments/{world.dept_a.id}/queue-settings"
    agent = login_as(world.agent_a)
    assert agent.get(url).json == {
        "department_id": world.dept_a.id,
        "strategy": "least_loaded",
        "tier_matching": "preferred",
        "auto_assign": True,
        "round_robin_cursor": None,
        "stored": False,
    }
    off = {"strategy": "round_robin", "tier_matching": "off", "auto_assign": False}
    assert agent.put(url, json=off).status_code == 403
    admin = login_as(world.admin)
    assert admin.put(url, json={**off, "strategy": "random"}).status_code == 422
    assert admin.put(url, json={"strategy": "round_robin"}).status_code == 422
    r = admin.put(url, json=off)
    assert r.status_code == 200 and r.json["stored"] is True and r.json["auto_assign"] is False
    # With auto-assign off a new ticket waits for a person to assign it ...
    ticket = open_ticket(agent, world.dept_a)
    assert ticket["assignee"] is None
    # ... and switching it back on hands out the waiting tickets (world.ticket_a and the new one).
    assert admin.put(url, json={**off, "auto_assign": True}).status_code == 200
    assert fresh(ticket["id"]).assignee_id == world.agent_a.id
    assert fresh(world.ticket_a.id).assignee_id == world.agent_a.id
