"""The case timeline: messages, notes, workflow steps, invitations and SLA events merged in order, paged without skips."""

from datetime import UTC, datetime, timedelta

import pytest

from service_hub.casework.models import SlaClock, SlaClockEvent
from service_hub.core.extensions import db
from service_hub.org.models import DepartmentKind
from service_hub.tickets.models import AuditEvent, Direction
from tests.collab.conftest import note, token
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory, MessageFactory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def history(world, colleagues):
    """One ticket's history, written with fixed times; ties across and within sources on purpose."""
    t = world.ticket_a
    inbound = MessageFactory(ticket=t, direction=Direction.INBOUND, body_text="My roaming bill is wrong", created_at=_at(0))
    clock = SlaClock(
        ticket_id=t.id, kind="resolution", calendar_key="24x7", status="running", target_seconds=3600, warning_share=0.75, started_at=_at(0)
    )
    db.session.add(clock)
    db.session.flush()

    def sla(kind, minutes):
        event = SlaClockEvent(
            clock_id=clock.id, kind=kind, at=_at(minutes), business_used=minutes * 60.0, due_at=_at(60), target_seconds=3600
        )
        db.session.add(event)
        return event

    def step(action, before, after, minutes):
        event = AuditEvent(ticket_id=t.id, actor_id=world.agent_a.id, action=action, before=before, after=after, created_at=_at(minutes))
        db.session.add(event)
        return event

    started = sla("started", 0)  # same time as the inbound message: messages rank first
    forward = step("workflow.forward", {"step": "intake"}, {"step": "dispatch", "task_id": None}, 5)
    noise = step("message.added", None, {"message_id": 1}, 5)  # not a timeline entry
    warned = sla("warned", 5)  # same time as the step: steps rank before SLA events
    note_row = MessageFactory(
        ticket=t, direction=Direction.NOTE, author_agent=world.agent_a, body_text=f"{token(colleagues[0])} see above", created_at=_at(10)
    )
    reply = MessageFactory(ticket=t, direction=Direction.OUTBOUND, author_agent=world.agent_a, body_text="Refunded", created_at=_at(10))
    invited = step("invitation.created", None, {"invitation_id": 9, "department_id": world.dept_b.id, "department_name": "Billing B"}, 20)
    breached = sla("breached", 60)
    other_ticket = MessageFactory(ticket=world.ticket_b, created_at=_at(3))
    db.session.commit()
    assert noise.id and other_ticket.id
    return [
        ("message", inbound.id),
        ("sla", started.id),
        ("workflow_step", forward.id),
        ("sla", warned.id),
        ("note", note_row.id),
        ("message", reply.id),
        ("invitation", invited.id),
        ("sla", breached.id),
    ]


def _walk(api, ticket_id, limit):
    items, cursor, pages = [], None, 0
    while True:
        r = api.get(f"/api/v1/tickets/{ticket_id}/timeline?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.json
        items += r.json["items"]
        pages += 1
        cursor = r.json["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 50


def test_timeline_merges_every_source_in_time_order(world, colleagues, history, login_as):
    api = login_as(world.agent_a)
    items = api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline").json["items"]
    assert [(i["kind"], i["id"]) for i in items] == history
    by_kind = {i["kind"]: i for i in reversed(items)}  # the first of each kind
    assert by_kind["note"]["mentions"] == [{"kind": "agent", "id": colleagues[0].id, "name": colleagues[0].name}]
    assert by_kind["message"]["direction"] == "inbound" and by_kind["message"]["channel"] == "email"
    step = by_kind["workflow_step"]
    assert (step["action"], step["from_step"], step["to_step"]) == ("forward", "intake", "dispatch")
    assert step["actor"] == {"id": world.agent_a.id, "name": world.agent_a.name}
    assert by_kind["invitation"]["department"] == {"id": world.dept_b.id, "name": "Billing B"}
    assert [(i["clock"], i["event"]) for i in items if i["kind"] == "sla"] == [
        ("resolution", "started"),
        ("resolution", "warned"),
        ("resolution", "breached"),
    ]
    assert items[0]["at"] == _at(0).isoformat()


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_neither_skips_nor_repeats(world, history, login_as, limit):
    api = login_as(world.agent_a)
    items, pages = _walk(api, world.ticket_a.id, limit)
    assert [(i["kind"], i["id"]) for i in items] == history
    assert pages == -(-len(history) // limit)


def test_timeline_is_checked_like_the_ticket(world, history, login_as):
    assert login_as(world.agent_b).get(f"/api/v1/tickets/{world.ticket_a.id}/timeline").status_code == 404
    api = login_as(world.agent_a)
    assert api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?cursor=garbage").status_code == 400
    assert api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?limit=0").status_code == 400


def test_a_real_case_shows_its_steps_clocks_and_notes(app, login_as):
    centre = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre")
    front = DepartmentFactory(parent=centre, name="Front line", functions=["front_line", "dispatcher"])
    agent = AgentFactory(departments=[front])
    customer = CustomerFactory()
    api = login_as(agent)
    r = api.post(
        "/api/v1/tickets",
        json={
            "subject": "Overcharged",
            "department_id": front.id,
            "customer_id": customer.id,
            "custom_fields": {"category": "complaint", "summary": "Charged twice"},
        },
    )
    assert r.status_code == 201, r.json
    ticket_id = r.json["id"]
    case = api.get(f"/api/v1/tickets/{ticket_id}/case").json
    assert api.post(f"/api/v1/tickets/{ticket_id}/case/actions", json={"action": "forward", "version": case["version"]}).status_code == 200
    note(api, ticket_id, "Forwarded to the dispatcher")
    items = api.get(f"/api/v1/tickets/{ticket_id}/timeline").json["items"]
    kinds = [i["kind"] for i in items]
    assert ("sla", "resolution", "started") in {(i["kind"], i.get("clock"), i.get("event")) for i in items}
    assert kinds.index("workflow_step") < kinds.index("note")
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
