"""A ticket opened without a department is routed: department, base priority, tags and workflow, audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from service_hub.casework.models import CaseRecord
from service_hub.core.extensions import db
from service_hub.customers.models import Tier
from service_hub.org.models import DepartmentKind
from service_hub.tickets.models import AuditEvent, Ticket
from tests.casework.conftest import URL, rule, standard_rules
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory

TICKETS = "/api/v1/tickets"


@pytest.fixture
def front_line_api(login_as, shanghai):  # type: ignore[no-untyped-def]
    return login_as(AgentFactory(departments=[shanghai.front_line]))


def _open(api: Any, **body: Any) -> Any:
    customer = body.pop("customer_id", None)
    who = (
        {"customer_id": customer} if customer else {"customer": {"name": "张三", "identities": [{"kind": "phone", "value": "13800138000"}]}}
    )
    return api.post(TICKETS, json={"subject": "Question", "channel": "wechat", **who, **body})


def _routed_audit(ticket_id: int) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket_id, AuditEvent.action == "ticket.routed")).one()


def test_intake_routes_to_the_rules_department_priority_tags_and_workflow(admin_api, supervisor_api, shanghai):
    standard_rules(admin_api)
    r = _open(supervisor_api, subject="宽带断网", tags=["Callback"], category="no_signal", message={"body_text": "从昨晚开始"})
    assert r.status_code == 201, r.json
    ticket = r.json
    assert ticket["department"]["id"] == shanghai.network.id
    assert ticket["priority"] == "high"
    assert ticket["tags"] == ["broadband", "callback", "fault"]
    assert ticket["custom_fields"] == {"workflow": "fault_repair", "category": "no_signal"}
    record = db.session.get(CaseRecord, ticket["id"])
    assert record is not None and record.definition_key == "fault_repair"

    routed = _routed_audit(ticket["id"])
    assert routed.after["rule"] == "Broadband" and routed.after["rule_id"] is not None
    assert routed.after["reasons"] == ["keyword '宽带' found"]
    assert routed.after["department_id"] == shanghai.network.id and routed.after["centre_id"] == shanghai.centre.id
    assert routed.after["workflow"] == "fault_repair" and routed.after["priority"] == "high"
    assert routed.after["explanation"][0] == "rule 'VIP' skipped: tier normal not in [diamond, gold]"
    assert routed.actor_id is not None


def test_keywords_are_found_in_the_first_message_and_an_explicit_priority_wins(admin_api, supervisor_api, shanghai):
    standard_rules(admin_api)
    r = _open(supervisor_api, subject="Help", priority="low", message={"body_html": "<p>My <b>broadband</b> is down</p>"})
    assert r.status_code == 201, r.json
    assert r.json["department"]["id"] == shanghai.network.id and r.json["priority"] == "low"
    assert _routed_audit(r.json["id"]).after["priority"] == "high"  # the rule's, overridden by the request


def test_the_customers_tier_and_attributes_route(admin_api, supervisor_api, shanghai):
    standard_rules(admin_api)
    admin_api.post(
        URL,
        json={**rule("Enterprise", {"attributes": {"segment": "enterprise"}}, department="sh-billing", priority="urgent"), "position": 1},
    )
    gold = CustomerFactory(tier=Tier.GOLD)
    enterprise = CustomerFactory(attributes={"segment": "enterprise"})
    r = _open(supervisor_api, customer_id=gold.id, subject="宽带")
    assert r.json["department"]["id"] == shanghai.vip.id and r.json["priority"] == "high" and r.json["tags"] == ["vip"]
    r = _open(supervisor_api, customer_id=enterprise.id)
    assert r.json["department"]["id"] == shanghai.billing.id and r.json["priority"] == "urgent"


def test_routing_to_a_department_the_agent_cannot_see_is_422_explaining_the_route(admin_api, front_line_api, shanghai):
    standard_rules(admin_api)
    r = _open(front_line_api, subject="宽带断网")
    assert r.status_code == 422
    assert r.json["detail"] == (
        "Routing (rule 'Broadband') sends this ticket to Network operations (sh-noc), where you cannot open tickets; "
        "give department_id to open it in one of your departments."
    )
    assert db.session.scalars(select(Ticket).where(Ticket.subject == "宽带断网")).first() is None
    # The same agent's ordinary ticket goes to their own front line.
    r = _open(front_line_api, subject="Roaming in Japan", message={"body_text": "How much?"})
    assert r.status_code == 201, r.json
    assert r.json["department"]["id"] == shanghai.front_line.id


def test_without_stored_rules_the_builtin_default_routes_by_tier(front_line_api, shanghai):
    diamond = CustomerFactory(tier=Tier.DIAMOND)
    r = _open(front_line_api, customer_id=diamond.id)
    assert r.status_code == 201, r.json
    assert r.json["department"]["id"] == shanghai.front_line.id and r.json["priority"] == "high"
    assert r.json["custom_fields"] == {}  # the workflow is chosen by the definitions' applies_to
    assert front_line_api.get(f"/api/v1/tickets/{r.json['id']}/case").json["workflow"] == "general_enquiry"
    complaint = _open(front_line_api, customer_id=diamond.id, category="complaint")
    assert front_line_api.get(f"/api/v1/tickets/{complaint.json['id']}/case").json["workflow"] == "complaint"
    routed = _routed_audit(r.json["id"])
    assert routed.after["rule"] == "built-in default" and routed.after["builtin_default"] is True
    assert routed.after["reasons"] == ["no conditions (default rule)"]


def test_a_function_the_agents_own_group_holds_keeps_the_ticket_there(admin_api, login_as, shanghai):
    # The hotline group sits below the front line, so it is front line too; the department above
    # it is not visible to its members, so the ticket stays in the group.
    standard_rules(admin_api)
    api = login_as(AgentFactory(departments=[shanghai.hotline_group]))
    r = _open(api, subject="Roaming in Japan")
    assert r.status_code == 201, r.json
    assert r.json["department"]["id"] == shanghai.hotline_group.id
    assert (
        _routed_audit(r.json["id"]).after["explanation"][-1] == "function front_line is held by your department sh-hotline (Hotline group)"
    )


def test_an_unresolvable_function_is_422_and_department_id_still_works(admin_api, login_as, shanghai):
    standard_rules(admin_api)
    beijing = DepartmentFactory(kind=DepartmentKind.CENTRE, code="bj", name="Centre bj")
    desk = DepartmentFactory(parent=beijing, code="bj-desk", name="Desk")
    api = login_as(AgentFactory(departments=[desk]))
    r = _open(api)
    assert r.status_code == 422
    assert "no active department in centre Centre bj (bj)" in r.json["detail"]
    assert "Give department_id" in r.json["detail"] and r.json["errors"]["department_id"]
    r = _open(api, department_id=desk.id, category="billing")
    assert r.status_code == 201, r.json
    assert r.json["department"]["id"] == desk.id and r.json["priority"] == "normal"
    assert r.json["custom_fields"] == {"category": "billing"}
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == r.json["id"], AuditEvent.action == "ticket.routed")).first()
        is None
    )


def test_reorder_changes_where_intake_sends_a_ticket(admin_api, supervisor_api, shanghai):
    ids = standard_rules(admin_api)
    gold = CustomerFactory(tier=Tier.GOLD)
    assert _open(supervisor_api, customer_id=gold.id, subject="宽带").json["department"]["id"] == shanghai.vip.id
    admin_api.post(f"{URL}/reorder", json={"ids": [ids["Broadband"], ids["VIP"], ids["Night"], ids["Default"]]})
    assert _open(supervisor_api, customer_id=gold.id, subject="宽带").json["department"]["id"] == shanghai.network.id
