"""GET /api/v1/departments/<id>/tasks, the department board: a complaint dispatched to billing
awaits its sign-for with the acknowledge clock and the dispatcher as origin; a return shows on the
dispatcher's board; countersign tasks show on each department's board with their own actions."""

import pytest
from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.org.models import DepartmentKind
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory


@pytest.fixture
def centre(app):
    c = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre")
    org = {
        "front": DepartmentFactory(parent=c, name="Front line", functions=["front_line", "dispatcher"]),
        "billing": DepartmentFactory(parent=c, name="Billing", functions=["billing"]),
        "finance": DepartmentFactory(parent=c, name="Finance", functions=["finance"]),
    }
    org["agent_front"] = AgentFactory(departments=[org["front"]])
    org["agent_billing"] = AgentFactory(departments=[org["billing"]])
    org["agent_finance"] = AgentFactory(departments=[org["finance"]])
    org["outsider"] = AgentFactory(departments=[DepartmentFactory(kind=DepartmentKind.CENTRE, name="Elsewhere")])
    org["customer"] = CustomerFactory()
    return org


def _open(api, centre, category, **fields):
    body = {"subject": f"A {category}", "department_id": centre["front"].id, "customer_id": centre["customer"].id}
    r = api.post("/api/v1/tickets", json=body | {"custom_fields": {"category": category, **fields}})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _act(api, ticket_id, action, **kwargs):
    version = api.get(f"/api/v1/tickets/{ticket_id}/case").json["version"]
    r = api.post(f"/api/v1/tickets/{ticket_id}/case/actions", json={"action": action, "version": version, **kwargs})
    assert r.status_code == 200, r.json
    return r.json


def _board(api, department, **query):
    r = api.get(f"/api/v1/departments/{department.id}/tasks", query_string=query)
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_dispatched_complaint_awaits_sign_for_then_a_return_awaits_the_dispatcher(centre, login_as):
    front, billing = login_as(centre["agent_front"]), login_as(centre["agent_billing"])
    ticket_id = _open(front, centre, "complaint", summary="Charged twice")
    _act(front, ticket_id, "forward")
    # Awaiting dispatch: the dispatcher's (front line's) board has it, billing's does not yet.
    assert [(i["ticket_id"], i["step"]) for i in _board(front, centre["front"])] == [(ticket_id, "dispatch")]
    assert _board(billing, centre["billing"]) == []
    _act(front, ticket_id, "dispatch", inputs={"department": centre["billing"].id})

    [item] = _board(billing, centre["billing"])
    assert item["ticket_id"] == ticket_id and item["kind"] == "case" and item["step"] == "acknowledge"
    assert item["state"] == "open" and item["subject"] == "A complaint"
    assert item["from_department"] == {"id": centre["front"].id, "name": "Front line"}
    assert item["clock"]["kind"] == "acknowledge" and item["clock"]["status"] == "running" and item["clock"]["due_at"]
    actions = {a["action"]: a for a in item["actions"]}
    assert set(actions) >= {"acknowledge", "return"} and actions["return"]["required_fields"] == ["reason"]
    assert _board(front, centre["front"]) == []  # dispatched: nothing awaits the front line now

    _act(billing, ticket_id, "acknowledge")
    [item] = _board(billing, centre["billing"])
    assert item["step"] == "handle" and item["clock"]["kind"] == "handling"
    assert {"request_extension", "return"} <= {a["action"] for a in item["actions"]}

    _act(billing, ticket_id, "return", inputs={"reason": "Not a billing matter"})
    assert _board(billing, centre["billing"]) == []
    [item] = _board(front, centre["front"])
    assert item["step"] == "return_review" and item["from_department"]["id"] == centre["billing"].id
    assert {"redispatch", "reject_return"} <= {a["action"] for a in item["actions"]}


def test_countersign_tasks_show_on_each_department_board_with_their_own_actions(centre, login_as):
    front, billing, finance = (login_as(centre[k]) for k in ("agent_front", "agent_billing", "agent_finance"))
    ticket_id = _open(front, centre, "billing_dispute", disputed_amount=120, bill_period="2026-10")
    _act(front, ticket_id, "open_dispute")

    [lead] = _board(billing, centre["billing"])
    [co] = _board(finance, centre["finance"])
    assert lead["kind"] == co["kind"] == "countersign" and lead["lead"] and not co["lead"]
    assert lead["clock"]["kind"].startswith("task@") and lead["clock"]["due_at"]
    # Only a co-handler may return its task; the lead completes.
    assert {a["action"] for a in co["actions"]} == {"complete_task", "return_task"}
    assert {a["action"] for a in lead["actions"]} == {"complete_task"}

    _act(finance, ticket_id, "return_task", task_id=co["task_key"], inputs={"reason": "Not ours"})
    assert _board(finance, centre["finance"]) == []
    [closed] = _board(finance, centre["finance"], state="closed")
    assert closed["state"] == "returned" and closed["actions"] == []


def test_another_centre_cannot_read_the_board(centre, login_as):
    outsider = login_as(centre["outsider"])
    assert outsider.get(f"/api/v1/departments/{centre['billing'].id}/tasks").status_code == 404
    billing = login_as(centre["agent_billing"])
    assert billing.get(f"/api/v1/departments/{centre['billing'].id}/tasks?state=bogus").status_code == 400


def test_case_steps_reach_the_boards_they_change(centre, login_as):
    def last_step_rooms():
        query = select(OutboxEvent).where(OutboxEvent.event_type == "case.step").order_by(OutboxEvent.id.desc()).limit(1)
        return set(db.session.scalars(query).one().rooms)

    front, billing = login_as(centre["agent_front"]), login_as(centre["agent_billing"])
    ticket_id = _open(front, centre, "complaint", summary="Charged twice")
    _act(front, ticket_id, "forward")
    _act(front, ticket_id, "dispatch", inputs={"department": centre["billing"].id})
    # Billing's board gains the case, the front line's loses it.
    assert {f"department:{centre['billing'].id}", f"department:{centre['front'].id}"} <= last_step_rooms()
    _act(billing, ticket_id, "return", inputs={"reason": "Not ours"})
    assert f"department:{centre['front'].id}" in last_step_rooms()  # the dispatcher reviews the return
    dispute = _open(front, centre, "billing_dispute", disputed_amount=5, bill_period="2026-10")
    _act(front, dispute, "open_dispute")
    assert {f"department:{centre['billing'].id}", f"department:{centre['finance'].id}"} <= last_step_rooms()
