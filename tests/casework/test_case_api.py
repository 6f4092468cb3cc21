"""Cases through the API: the 12345 complaint dispatched across departments, a countersigned
billing dispute joined only when both departments are done, and refusals that say why."""

import pytest
from sqlalchemy import select

from service_hub.casework.models import CaseTask, SlaClock
from service_hub.core.extensions import db
from service_hub.org.models import DepartmentKind
from service_hub.tickets.models import TicketInvitation
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory


@pytest.fixture
def centre(app):
    c = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre")
    org = {
        "front": DepartmentFactory(parent=c, name="Front line", functions=["front_line", "dispatcher"]),
        "billing": DepartmentFactory(parent=c, name="Billing", functions=["billing"]),
        "finance": DepartmentFactory(parent=c, name="Finance", functions=["finance"]),
        "network": DepartmentFactory(parent=c, name="Network", functions=["network_operations"]),
    }
    org["agent_front"] = AgentFactory(departments=[org["front"]])
    org["agent_billing"] = AgentFactory(departments=[org["billing"]])
    org["agent_finance"] = AgentFactory(departments=[org["finance"]])
    org["customer"] = CustomerFactory()
    return org


def _open(api, centre, category, **fields):
    body = {
        "subject": "Case",
        "department_id": centre["front"].id,
        "customer_id": centre["customer"].id,
        "custom_fields": {"category": category, **fields},
    }
    r = api.post("/api/v1/tickets", json=body)
    assert r.status_code == 201, r.json
    return r.json["id"]


def _act(api, ticket_id, action, expect=200, **kwargs):
    case = api.get(f"/api/v1/tickets/{ticket_id}/case").json
    r = api.post(f"/api/v1/tickets/{ticket_id}/case/actions", json={"action": action, "version": case["version"], **kwargs})
    assert r.status_code == expect, r.json
    return r.json


def test_complaint_is_dispatched_acknowledged_and_handled_by_another_department(centre, login_as):
    front, billing = login_as(centre["agent_front"]), login_as(centre["agent_billing"])
    ticket_id = _open(front, centre, "complaint", summary="Overcharged twice")
    case = front.get(f"/api/v1/tickets/{ticket_id}/case").json
    assert case["workflow"] == "complaint" and case["step"] == "intake"
    assert "forward" in {a["action"] for a in case["actions"]}
    assert billing.get(f"/api/v1/tickets/{ticket_id}/case").status_code == 404  # not theirs yet
    _act(front, ticket_id, "forward")
    refused = _act(front, ticket_id, "dispatch", expect=422)
    assert "department" in str(refused)
    case = _act(front, ticket_id, "dispatch", inputs={"department": centre["billing"].id})
    # The case left the front line, which still watches it by invitation; billing now holds it.
    assert case["step"] == "acknowledge"
    invited = db.session.scalars(select(TicketInvitation.department_id).where(TicketInvitation.ticket_id == ticket_id)).all()
    assert centre["front"].id in invited
    assert _act(front, ticket_id, "acknowledge", expect=403)["detail"]
    case = _act(billing, ticket_id, "acknowledge")
    assert case["step"] == "handle"
    kinds = {c["kind"]: c["status"] for c in case["clocks"]}
    assert kinds["acknowledge"] == "met" and kinds["handling"] == "running"
    history = billing.get(f"/api/v1/tickets/{ticket_id}/case/history").json
    assert [h["action"] for h in history if h["action"].startswith("workflow.")] == [
        "workflow.forward",
        "workflow.dispatch",
        "workflow.acknowledge",
    ]


def test_stale_version_is_409(centre, login_as):
    front = login_as(centre["agent_front"])
    ticket_id = _open(front, centre, "complaint", summary="x")
    version = front.get(f"/api/v1/tickets/{ticket_id}/case").json["version"]
    assert front.post(f"/api/v1/tickets/{ticket_id}/case/actions", json={"action": "forward", "version": version}).status_code == 200
    again = front.post(f"/api/v1/tickets/{ticket_id}/case/actions", json={"action": "forward", "version": version})
    assert again.status_code == 409


def test_each_action_moves_the_ticket_version_by_one(centre, login_as):
    front = login_as(centre["agent_front"])
    ticket_id = _open(front, centre, "complaint", summary="x")
    before = front.get(f"/api/v1/tickets/{ticket_id}/case").json["version"]
    after = _act(front, ticket_id, "forward")["version"]
    assert after == before + 1


def test_billing_dispute_joins_only_when_billing_and_finance_are_done(centre, login_as):
    front, billing, finance = (login_as(centre[k]) for k in ("agent_front", "agent_billing", "agent_finance"))
    ticket_id = _open(front, centre, "billing_dispute", disputed_amount=120, bill_period="2026-10")
    case = _act(front, ticket_id, "open_dispute")
    assert case["step"] == "investigation"
    tasks = {t["function"]: t for t in case["tasks"]}
    assert tasks["billing"]["department_id"] == centre["billing"].id and tasks["billing"]["lead"]
    assert tasks["finance"]["department_id"] == centre["finance"].id and not tasks["finance"]["lead"]
    # Both departments were invited onto the case and each task runs its own clock.
    assert finance.get(f"/api/v1/tickets/{ticket_id}").status_code == 200
    task_clocks = db.session.scalars(select(SlaClock.kind).where(SlaClock.ticket_id == ticket_id, SlaClock.kind.like("task@%"))).all()
    assert len(task_clocks) == 2
    billing_task = tasks["billing"]["task_key"]
    missing = _act(billing, ticket_id, "complete_task", expect=422, task_id=billing_task)
    assert "task_opinion" in str(missing)
    case = _act(billing, ticket_id, "complete_task", task_id=billing_task, inputs={"task_opinion": "charge was wrong"})
    assert case["step"] == "investigation"  # finance still open: no join yet
    case = _act(finance, ticket_id, "complete_task", task_id=tasks["finance"]["task_key"], inputs={"task_opinion": "refund approved"})
    assert case["step"] == "decision"
    statuses = db.session.scalars(select(CaseTask.status).where(CaseTask.ticket_id == ticket_id)).all()
    assert sorted(statuses) == ["done", "done"]


def test_general_enquiry_direct_answer_closes_and_stops_clocks(centre, login_as):
    front = login_as(centre["agent_front"])
    ticket_id = _open(front, centre, "enquiry")
    case = front.get(f"/api/v1/tickets/{ticket_id}/case").json
    assert case["workflow"] == "general_enquiry"
    case = _act(front, ticket_id, "answer_now", inputs={"reply_text": "Your package renews on the 1st."})
    assert case["finished"] and front.get(f"/api/v1/tickets/{ticket_id}").json["status"] == "closed"
    assert {c["status"] for c in case["clocks"]} <= {"met", "breached"}


def test_unknown_action_is_422_and_nothing_changes(centre, login_as):
    front = login_as(centre["agent_front"])
    ticket_id = _open(front, centre, "complaint", summary="x")
    r = _act(front, ticket_id, "teleport", expect=422)
    assert r["type"].endswith("workflow-unknown-action")
    assert front.get(f"/api/v1/tickets/{ticket_id}/case").json["step"] == "intake"
