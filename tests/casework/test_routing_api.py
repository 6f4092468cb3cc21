"""/api/v1/routing-rules: admins keep an ordered, valid rule set; a dry run says which rule matched and why."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from service_hub.casework.models import RoutingRuleRow
from service_hub.core.extensions import db
from service_hub.customers.models import Tier
from service_hub.org.models import DepartmentKind, Role
from tests.casework.conftest import URL, rule, standard_rules
from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory


def _names(api: Any) -> list[str]:
    return [r["name"] for r in api.get(URL).json]


# --- CRUD ----------------------------------------------------------------------------------------


def test_admin_creates_lists_reads_patches_and_deletes_rules(admin_api, shanghai):
    assert admin_api.get(URL).json == []
    ids = standard_rules(admin_api)
    # Rules with conditions were inserted before the default rule, which stays last.
    listed = admin_api.get(URL).json
    assert [r["name"] for r in listed] == ["VIP", "Broadband", "Night", "Default"]
    assert [r["position"] for r in listed] == [1, 2, 3, 4]
    vip = admin_api.get(f"{URL}/{ids['VIP']}").json
    assert vip["conditions"] == {"tiers": ["diamond", "gold"]}
    assert vip["outcome"] == {"workflow": "general_enquiry", "department_function": "vip_service", "priority": "high", "tags": ["vip"]}
    assert vip["enabled"] is True and vip["updated_at"]
    night = admin_api.get(f"{URL}/{ids['Night']}").json
    assert night["conditions"]["time_windows"] == [
        {"timezone": "Asia/Shanghai", "start": "22:00", "end": "08:00", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    ]
    assert admin_api.get(f"{URL}/{ids['Default']}").json["conditions"] == {}

    default_stamp = admin_api.get(f"{URL}/{ids['Default']}").json["updated_at"]
    r = admin_api.patch(
        f"{URL}/{ids['VIP']}",
        json={"name": "VIP customers", "enabled": False, "outcome": {"workflow": "complaint", "department": "sh-vip"}},
    )
    assert r.status_code == 200, r.json
    assert r.json["name"] == "VIP customers" and r.json["enabled"] is False
    assert r.json["outcome"] == {"workflow": "complaint", "department": "sh-vip", "priority": "from_tier", "tags": []}
    assert r.json["conditions"] == {"tiers": ["diamond", "gold"]}  # untouched
    stored = db.session.get(RoutingRuleRow, ids["VIP"])
    db.session.refresh(stored)
    assert stored.definition["name"] == "VIP customers" and stored.definition["id"] == ids["VIP"] and stored.enabled is False
    assert admin_api.get(f"{URL}/{ids['Default']}").json["updated_at"] == default_stamp  # rules not changed are not written

    assert admin_api.delete(f"{URL}/{ids['Night']}").status_code == 204
    assert admin_api.get(f"{URL}/{ids['Night']}").status_code == 404
    assert _names(admin_api) == ["VIP customers", "Broadband", "Default"]


def test_explicit_position_inserts_and_moves(admin_api, shanghai):
    ids = standard_rules(admin_api)
    r = admin_api.post(URL, json={**rule("Billing", {"categories": ["billing"]}, department_function="billing"), "position": 1})
    assert r.status_code == 201, r.json
    assert r.json["position"] == 1
    assert _names(admin_api) == ["Billing", "VIP", "Broadband", "Night", "Default"]
    # Moving onto a taken position puts the rule there and the rest one down.
    r = admin_api.patch(f"{URL}/{ids['Night']}", json={"position": 2})
    assert r.status_code == 200, r.json
    assert _names(admin_api) == ["Billing", "Night", "VIP", "Broadband", "Default"]
    positions = [row["position"] for row in admin_api.get(URL).json]
    assert positions == sorted(set(positions))


def test_reorder_rewrites_positions_and_checks_the_ids(admin_api, shanghai):
    ids = standard_rules(admin_api)
    order = [ids["Broadband"], ids["Night"], ids["VIP"], ids["Default"]]
    r = admin_api.post(f"{URL}/reorder", json={"ids": order})
    assert r.status_code == 200, r.json
    assert [(x["name"], x["position"]) for x in r.json] == [("Broadband", 1), ("Night", 2), ("VIP", 3), ("Default", 4)]

    missing = admin_api.post(f"{URL}/reorder", json={"ids": [*order[:-1], order[0]]})
    assert missing.status_code == 422
    assert missing.json["errors"]["json"]["ids"] == [f"listed more than once: [{order[0]}]", f"missing: [{ids['Default']}]"]
    # The default rule must stay last.
    bad = admin_api.post(f"{URL}/reorder", json={"ids": [ids["Default"], ids["Broadband"], ids["Night"], ids["VIP"]]})
    assert bad.status_code == 422
    assert any("can never match" in p for p in bad.json["errors"]["rules"])
    assert _names(admin_api) == ["Broadband", "Night", "VIP", "Default"]


# --- validation ----------------------------------------------------------------------------------


def test_a_set_without_a_final_default_rule_is_refused(admin_api, shanghai):
    first = admin_api.post(URL, json=rule("VIP", {"tiers": ["gold"]}, department_function="vip_service"))
    assert first.status_code == 422
    assert first.json["errors"]["rules"] == [
        "the last enabled rule 'VIP' (position 1) has conditions; the last enabled rule must be a default rule without conditions"
    ]
    assert "not be a valid set" in first.json["detail"]
    ids = standard_rules(admin_api)
    # Deleting, disabling or conditioning the default rule would leave tickets unrouted.
    assert admin_api.delete(f"{URL}/{ids['Default']}").status_code == 422
    assert admin_api.patch(f"{URL}/{ids['Default']}", json={"enabled": False}).status_code == 422
    r = admin_api.patch(f"{URL}/{ids['Default']}", json={"conditions": {"channels": ["sms"]}})
    assert r.status_code == 422 and "must be a default rule" in r.json["errors"]["rules"][0]
    # A second default rule at the end shadows nothing but is itself unreachable.
    r = admin_api.post(URL, json=rule("Catch-all", department_function="front_line"))
    assert r.status_code == 422 and "can never match" in r.json["errors"]["rules"][0]
    assert _names(admin_api) == ["VIP", "Broadband", "Night", "Default"]
    # Every rule may go, in an order that keeps the set valid; an empty table uses the built-in default.
    for name in ("VIP", "Broadband", "Night", "Default"):
        assert admin_api.delete(f"{URL}/{ids[name]}").status_code == 204
    assert admin_api.get(URL).json == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (rule("X", department="sh-front", department_function="front_line"), ["outcome", "department"]),
        (rule("X"), ["outcome", "department"]),
        ({"name": "X", "outcome": {"department": "sh-front"}}, ["outcome", "workflow"]),
        (rule("X", department="sh-front", priority="asap"), ["outcome", "priority"]),
        (rule("X", {"channels": []}, department="sh-front"), ["conditions", "channels"]),
        (rule("X", {"colour": ["red"]}, department="sh-front"), ["conditions", "colour"]),
        (rule("X", {"keywords_any": ["  "]}, department="sh-front"), ["conditions", "keywords_any", "0"]),
        (rule("X", {"tiers": ["platinum"]}, department="sh-front"), ["conditions", "tiers", "0"]),
        (
            rule("X", {"time_windows": [{"timezone": "Asia/Shanghai", "start": "25:00", "end": "08:00"}]}, department="sh-front"),
            ["conditions", "time_windows", "0", "start"],
        ),
        (
            rule("X", {"time_windows": [{"timezone": "Mars/Olympus", "start": "08:00", "end": "18:00"}]}, department="sh-front"),
            ["conditions", "time_windows", "0", "timezone"],
        ),
        (rule("", department="sh-front"), ["name"]),
        ({**rule("X", department="sh-front"), "id": 7}, ["id"]),
        ({**rule("X", department="sh-front"), "position": 0}, ["position"]),
        # Checked against the database: typos are caught when the rule is written.
        (rule("X", workflow="general_enquiri", department="sh-front"), ["outcome", "workflow"]),
        (rule("X", department="sh-nowhere"), ["outcome", "department"]),
        (rule("X", department_function="astrology"), ["outcome", "department_function"]),
        (rule("X", department="sh-front", tags=["two words"]), ["outcome", "tags"]),
    ],
)
def test_invalid_rules_are_422_with_field_errors(admin_api, shanghai, body, where):
    r = admin_api.post(URL, json=body)
    assert r.status_code == 422, r.json
    errors = r.json["errors"]["json"]
    for key in where:
        errors = errors[key]
    assert errors
    assert db.session.scalars(select(RoutingRuleRow)).all() == []


def test_patch_validates_like_create(admin_api, shanghai):
    ids = standard_rules(admin_api)
    r = admin_api.patch(f"{URL}/{ids['VIP']}", json={"outcome": {"workflow": "general_enquiry"}})
    assert r.status_code == 422 and "department" in r.json["errors"]["json"]["outcome"]
    assert admin_api.patch(f"{URL}/{ids['VIP']}", json={"position": "first"}).status_code == 422
    assert admin_api.patch(f"{URL}/999999", json={"name": "x"}).status_code == 404
    assert admin_api.delete(f"{URL}/999999").status_code == 404


# --- who may ------------------------------------------------------------------------------------


def test_agents_may_not_read_supervisors_read_and_dry_run_admins_write(login_as, admin_api, supervisor_api, shanghai):
    ids = standard_rules(admin_api)
    agent_api = login_as(AgentFactory(departments=[shanghai.front_line]))
    assert agent_api.get(URL).status_code == 403
    assert agent_api.post(f"{URL}/dry-run", json={"channel": "sms"}).status_code == 403
    assert agent_api.post(URL, json=rule("Default 2", department_function="front_line")).status_code == 403

    assert supervisor_api.get(URL).status_code == 200
    assert supervisor_api.get(f"{URL}/{ids['VIP']}").status_code == 200
    assert supervisor_api.post(f"{URL}/dry-run", json={"channel": "sms"}).status_code == 200
    assert supervisor_api.post(URL, json=rule("X", department="sh-front")).status_code == 403
    assert supervisor_api.patch(f"{URL}/{ids['VIP']}", json={"name": "x"}).status_code == 403
    assert supervisor_api.delete(f"{URL}/{ids['VIP']}").status_code == 403
    assert supervisor_api.post(f"{URL}/reorder", json={"ids": list(ids.values())}).status_code == 403


# --- dry run ------------------------------------------------------------------------------------


def test_dry_run_explains_a_vip_rule_skipped_and_a_keyword_match(admin_api, supervisor_api, shanghai):
    standard_rules(admin_api)
    r = supervisor_api.post(
        f"{URL}/dry-run",
        json={"channel": "wechat", "subject": "家里宽带断网了", "tier": "normal", "received_at": "2026-11-24T10:00:00+08:00"},
    )
    assert r.status_code == 200, r.json
    result = r.json
    assert result["rule"]["name"] == "Broadband" and result["builtin_default"] is False
    assert result["outcome"]["workflow"] == "fault_repair"
    assert result["outcome"]["department"] == {"id": shanghai.network.id, "code": "sh-noc", "name": "Network operations"}
    assert result["outcome"]["department_function"] == "network_operations"
    assert result["outcome"]["centre"]["id"] == shanghai.centre.id
    assert result["outcome"]["priority"] == "high" and result["outcome"]["tags"] == ["broadband", "fault"]
    assert result["explanation"] == [
        "rule 'VIP' skipped: tier normal not in [diamond, gold]",
        "rule 'Broadband' matched: keyword '宽带' found",
        "priority high set by the rule",
        "function network_operations in centre sh is department sh-noc (Network operations)",
    ]
    assert [(e["rule"]["name"], e["status"]) for e in result["evaluations"]] == [("VIP", "skipped"), ("Broadband", "matched")]


def test_dry_run_reads_the_customer_and_falls_through_to_the_default(admin_api, supervisor_api, shanghai):
    standard_rules(admin_api)
    gold = CustomerFactory(tier=Tier.GOLD, language="zh-CN")
    r = supervisor_api.post(f"{URL}/dry-run", json={"channel": "phone", "subject": "宽带", "customer_id": gold.id})
    assert r.json["rule"]["name"] == "VIP" and r.json["outcome"]["department"]["id"] == shanghai.vip.id
    noon = "2026-11-24T12:00:00+08:00"
    r = supervisor_api.post(f"{URL}/dry-run", json={"channel": "phone", "subject": "Roaming", "received_at": noon})
    assert r.json["rule"]["name"] == "Default"
    assert r.json["outcome"]["department"]["id"] == shanghai.front_line.id and r.json["outcome"]["priority"] == "normal"
    assert r.json["explanation"][-2] == "priority normal from tier (unknown)"
    both = supervisor_api.post(f"{URL}/dry-run", json={"channel": "phone", "customer_id": gold.id, "tier": "gold"})
    assert both.status_code == 422 and "tier" in both.json["errors"]["json"]


def test_time_of_day_rule(admin_api, supervisor_api, shanghai):
    standard_rules(admin_api)
    night = supervisor_api.post(f"{URL}/dry-run", json={"channel": "sms", "subject": "hello", "received_at": "2026-11-27T23:30:00+08:00"})
    assert night.json["rule"]["name"] == "Night"
    assert "rule 'Night' matched: received Fri 23:30 Asia/Shanghai within every day 22:00-08:00 Asia/Shanghai" in night.json["explanation"]
    # 01:00 UTC is 09:00 in Shanghai: past the window's end.
    day = supervisor_api.post(f"{URL}/dry-run", json={"channel": "sms", "subject": "hello", "received_at": "2026-11-28T01:00:00+00:00"})
    assert day.json["rule"]["name"] == "Default"
    assert "rule 'Night' skipped: received Sat 09:00 Asia/Shanghai outside [every day 22:00-08:00 Asia/Shanghai]" in day.json["explanation"]


def test_reorder_changes_which_rule_matches(admin_api, supervisor_api, shanghai):
    ids = standard_rules(admin_api)
    ticket = {"channel": "web", "subject": "broadband down", "tier": "gold", "received_at": "2026-11-24T10:00:00+08:00"}
    assert supervisor_api.post(f"{URL}/dry-run", json=ticket).json["rule"]["name"] == "VIP"
    r = admin_api.post(f"{URL}/reorder", json={"ids": [ids["Broadband"], ids["VIP"], ids["Night"], ids["Default"]]})
    assert r.status_code == 200, r.json
    result = supervisor_api.post(f"{URL}/dry-run", json=ticket).json
    assert result["rule"]["name"] == "Broadband" and result["outcome"]["department"]["id"] == shanghai.network.id


def test_a_function_missing_in_the_centre_is_422_naming_both(admin_api, login_as, shanghai):
    standard_rules(admin_api)
    beijing = DepartmentFactory(kind=DepartmentKind.CENTRE, code="bj", name="Centre bj")
    DepartmentFactory(parent=beijing, code="bj-front", functions=["front_line"])
    supervisor_bj = login_as(AgentFactory(role=Role.SUPERVISOR, departments=[beijing]))
    r = supervisor_bj.post(f"{URL}/dry-run", json={"channel": "sms", "subject": "宽带"})
    assert r.status_code == 422
    assert r.json["detail"] == (
        "rule 'Broadband' routes to the function 'network_operations', but no active department in centre Centre bj (bj) has that function."
    )
    # The same rules resolve in Beijing's own front line for anything else.
    r = supervisor_bj.post(f"{URL}/dry-run", json={"channel": "sms", "subject": "hi", "received_at": "2026-11-24T10:00:00+08:00"})
    assert r.json["outcome"]["department"]["code"] == "bj-front"


def test_admin_without_a_centre_names_one(admin_api, shanghai):
    standard_rules(admin_api)
    body = {"channel": "sms", "subject": "宽带"}
    r = admin_api.post(f"{URL}/dry-run", json=body)
    assert r.status_code == 422 and "belong to no department" in r.json["detail"]
    r = admin_api.post(f"{URL}/dry-run", json={**body, "centre_id": shanghai.centre.id})
    assert r.status_code == 200 and r.json["outcome"]["department"]["id"] == shanghai.network.id
    r = admin_api.post(f"{URL}/dry-run", json={**body, "centre_id": shanghai.network.id})
    assert r.status_code == 422 and "centre_id" in r.json["errors"]["json"]


def test_dry_run_without_rules_uses_the_builtin_default(supervisor_api, shanghai):
    r = supervisor_api.post(f"{URL}/dry-run", json={"channel": "email", "subject": "Where is my bill?", "tier": "diamond"})
    assert r.status_code == 200, r.json
    assert r.json["builtin_default"] is True and r.json["rule"] == {"id": None, "name": "built-in default", "position": None}
    assert r.json["outcome"]["workflow"] == "general_enquiry"
    assert r.json["outcome"]["department"]["id"] == shanghai.front_line.id
    assert r.json["outcome"]["priority"] == "high"  # diamond


def test_rules_name_a_department_by_code_and_unknown_fields_are_refused(admin_api, supervisor_api, shanghai):
    admin_api.post(URL, json=rule("Default", department_function="front_line"))
    r = admin_api.post(URL, json=rule("Billing", {"categories": ["Billing"], "channels": ["email"]}, department="sh-billing"))
    assert r.status_code == 201, r.json
    result = supervisor_api.post(f"{URL}/dry-run", json={"channel": "email", "category": "billing"}).json
    assert result["rule"]["name"] == "Billing" and result["outcome"]["department"]["id"] == shanghai.billing.id
    assert result["outcome"]["department_function"] is None and result["outcome"]["centre"] is None
    assert supervisor_api.post(f"{URL}/dry-run", json={"channel": "email", "colour": "red"}).status_code == 422
    assert supervisor_api.post(f"{URL}/dry-run", json={"channel": "pigeon"}).status_code == 422


def test_the_endpoints_are_in_the_openapi_document(supervisor_api):
    spec = supervisor_api.get("/api/v1/openapi.json").json
    assert {
        "/api/v1/routing-rules",
        "/api/v1/routing-rules/{rule_id}",
        "/api/v1/routing-rules/reorder",
        "/api/v1/routing-rules/dry-run",
    } <= set(spec["paths"])
    assert "outcome" in spec["components"]["schemas"]["RoutingRuleCreate"]["properties"]
