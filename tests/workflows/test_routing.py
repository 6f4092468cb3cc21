"""Routing rules: precedence, each condition, CJK keywords, time windows, explanations, JSON."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from marshmallow import ValidationError

from workflows.queue_order import Priority, Tier
from workflows.routing import (
    AttributeCondition,
    Conditions,
    RoutingInput,
    RoutingRule,
    RuleOutcome,
    RuleSetError,
    TimeWindow,
    evaluate_rule,
    route,
    rule_from_dict,
    rule_to_dict,
    rules_from_dicts,
    validate_rules,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-03-06 is a Friday.
FRIDAY_NOON = datetime(2026, 3, 6, 12, 0, tzinfo=SHANGHAI)

DEFAULT = RoutingRule(id=99, name="Default", position=1000, outcome=RuleOutcome(workflow="standard", department="FRONT"))


def rule(name: str, position: int, conditions: Conditions, **outcome: Any) -> RoutingRule:
    outcome.setdefault("workflow", name.lower())
    outcome.setdefault("department", name.upper())
    return RoutingRule(id=position, name=name, position=position, conditions=conditions, outcome=RuleOutcome(**outcome))


def ticket(**overrides: Any) -> RoutingInput:
    values: dict[str, Any] = {"channel": "phone", "received_at": FRIDAY_NOON, "tier": Tier.NORMAL}
    values.update(overrides)
    return RoutingInput(**values)


def matched_name(rules: list[RoutingRule], item: RoutingInput) -> str:
    return route(rules, item).rule.name


# --- precedence --------------------------------------------------------------------------------


def test_first_matching_rule_by_position_wins_whatever_the_list_order() -> None:
    vip = rule("VIP", 10, Conditions(tiers=(Tier.DIAMOND, Tier.GOLD)))
    phone = rule("Phone", 20, Conditions(channels=("phone",)))
    rules = [DEFAULT, phone, vip]
    assert matched_name(rules, ticket(tier=Tier.GOLD)) == "VIP"
    assert matched_name(rules, ticket(tier=Tier.NORMAL)) == "Phone"
    assert matched_name(rules, ticket(channel="email")) == "Default"


def test_disabled_rule_is_skipped_and_said_so() -> None:
    off = RoutingRule(
        name="Off", position=1, enabled=False, conditions=Conditions(channels=("phone",)), outcome=RuleOutcome(workflow="x", department="X")
    )
    decision = route([off, DEFAULT], ticket())
    assert decision.rule is DEFAULT
    assert decision.explanation[0] == "rule 'Off' skipped: disabled"


def test_all_conditions_of_a_rule_must_hold() -> None:
    both = rule("Both", 1, Conditions(channels=("phone",), categories=("billing",)))
    assert matched_name([both, DEFAULT], ticket(category="billing")) == "Both"
    assert matched_name([both, DEFAULT], ticket(category="network")) == "Default"


# --- each condition ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "hit", "miss"),
    [
        (Conditions(channels=("WeChat", "sms")), {"channel": "wechat"}, {"channel": "email"}),
        (Conditions(accounts=("wxAB12",)), {"account": "wxAB12"}, {"account": "wxab12"}),
        (Conditions(accounts=("10086",)), {"account": "10086"}, {"account": None}),
        (Conditions(categories=("Billing",)), {"category": "billing"}, {"category": None}),
        (Conditions(languages=("zh",)), {"language": "zh-CN"}, {"language": "en"}),
        (Conditions(languages=("zh-CN",)), {"language": "zh-cn"}, {"language": "zh-TW"}),
        (Conditions(languages=("zh",)), {"language": "zh"}, {"language": "zho"}),
        (Conditions(tiers=(Tier.DIAMOND,)), {"tier": Tier.DIAMOND}, {"tier": None}),
        (
            Conditions(attributes=(AttributeCondition("plan", "eq", ("5G-max",)),)),
            {"attributes": {"plan": "5G-max"}},
            {"attributes": {"plan": "4G"}},
        ),
        (
            Conditions(attributes=(AttributeCondition("region", "in", ("SH", "BJ")),)),
            {"attributes": {"region": "BJ"}},
            {"attributes": {}},
        ),
        (
            Conditions(attributes=(AttributeCondition("months", "eq", (24,)),)),
            {"attributes": {"months": 24.0}},
            {"attributes": {"months": "24"}},
        ),
        (
            Conditions(attributes=(AttributeCondition("enterprise", "eq", (True,)),)),
            {"attributes": {"enterprise": True}},
            {"attributes": {"enterprise": 1}},
        ),
        (Conditions(keywords_any=("refund", "退款")), {"body": "我要退款"}, {"body": "我要查话费"}),
        (Conditions(keywords_all=("roaming", "charge")), {"subject": "Roaming", "body": "extra CHARGE"}, {"subject": "roaming"}),
    ],
)
def test_each_condition_type_matches_and_misses(conditions: Conditions, hit: dict[str, Any], miss: dict[str, Any]) -> None:
    target = rule("Target", 1, conditions)
    assert matched_name([target, DEFAULT], ticket(**hit)) == "Target"
    assert matched_name([target, DEFAULT], ticket(**miss)) == "Default"


def test_chinese_keywords_match_without_spaces() -> None:
    broadband = rule("Broadband", 1, Conditions(keywords_any=("宽带",)))
    assert matched_name([broadband, DEFAULT], ticket(subject="宽带断网", body="")) == "Broadband"
    assert matched_name([broadband, DEFAULT], ticket(subject="", body="家里的宽带从昨晚开始就断网了")) == "Broadband"
    assert matched_name([broadband, DEFAULT], ticket(subject="手机没信号", body="")) == "Default"


def test_keywords_fold_case_full_width_and_white_space() -> None:
    vpn = rule("VPN", 1, Conditions(keywords_all=("vpn", "no signal")))
    assert matched_name([vpn, DEFAULT], ticket(subject="ＶＰＮ故障", body="NO\n  Signal since 9am")) == "VPN"


# --- time windows ------------------------------------------------------------------------------


NIGHT = TimeWindow(timezone="Asia/Shanghai", start=time(22), end=time(6), weekdays=frozenset({4}))  # Fri night


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        (datetime(2026, 3, 6, 21, 59), False),  # Fri before the start
        (datetime(2026, 3, 6, 22, 0), True),  # Fri, start inclusive
        (datetime(2026, 3, 6, 23, 59), True),
        (datetime(2026, 3, 7, 0, 0), True),  # Sat: the tail of Friday's window
        (datetime(2026, 3, 7, 5, 59), True),
        (datetime(2026, 3, 7, 6, 0), False),  # end exclusive
        (datetime(2026, 3, 7, 22, 30), False),  # Sat night is not listed
        (datetime(2026, 3, 6, 3, 0), False),  # Fri early morning belongs to Thursday's window
    ],
)
def test_window_across_midnight(local: datetime, inside: bool) -> None:
    assert NIGHT.contains(local.replace(tzinfo=SHANGHAI)) is inside


def test_window_uses_its_own_time_zone() -> None:
    office = TimeWindow(timezone="Asia/Shanghai", start=time(9), end=time(18), weekdays=frozenset(range(5)))
    # 02:00 UTC on a Friday is 10:00 in Shanghai; 11:00 UTC is 19:00 there.
    assert office.contains(datetime(2026, 3, 6, 2, 0, tzinfo=UTC))
    assert not office.contains(datetime(2026, 3, 6, 11, 0, tzinfo=UTC))
    # Sunday 23:00 UTC is Monday 07:00 in Shanghai: a weekday, but before opening.
    assert not office.contains(datetime(2026, 3, 8, 23, 0, tzinfo=UTC))
    assert office.contains(datetime(2026, 3, 9, 1, 0, tzinfo=UTC))


def test_equal_start_and_end_is_a_full_day() -> None:
    saturday = TimeWindow(timezone="Asia/Shanghai", start=time(0), end=time(0), weekdays=frozenset({5}))
    assert saturday.contains(datetime(2026, 3, 7, 0, 0, tzinfo=SHANGHAI))
    assert saturday.contains(datetime(2026, 3, 7, 23, 59, tzinfo=SHANGHAI))
    assert not saturday.contains(datetime(2026, 3, 8, 0, 0, tzinfo=SHANGHAI))


def test_time_window_condition_in_a_rule_and_any_window_suffices() -> None:
    lunch = TimeWindow(timezone="Asia/Shanghai", start=time(12), end=time(13))
    night = rule("Night desk", 1, Conditions(time_windows=(NIGHT, lunch)))
    assert matched_name([night, DEFAULT], ticket(received_at=datetime(2026, 3, 7, 1, 0, tzinfo=SHANGHAI))) == "Night desk"
    assert matched_name([night, DEFAULT], ticket(received_at=FRIDAY_NOON)) == "Night desk"
    decision = route([night, DEFAULT], ticket(received_at=datetime(2026, 3, 6, 9, 0, tzinfo=SHANGHAI)))
    assert decision.rule is DEFAULT
    assert "received Fri 09:00 Asia/Shanghai outside" in decision.explanation[0]


def test_naive_received_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ticket(received_at=datetime(2026, 3, 6, 12, 0))


# --- explanation and priority ------------------------------------------------------------------


def test_explanation_names_the_failed_and_the_satisfied_conditions() -> None:
    vip = rule("VIP hotline", 10, Conditions(channels=("phone",), tiers=(Tier.DIAMOND, Tier.GOLD)), priority=Priority.URGENT)
    broadband = rule("Broadband", 20, Conditions(keywords_any=("宽带", "broadband"), channels=("phone", "sms")))
    decision = route([vip, broadband, DEFAULT], ticket(subject="宽带断网"))
    assert decision.rule is broadband
    assert decision.explanation[0] == "rule 'VIP hotline' skipped: tier normal not in [diamond, gold]"
    assert decision.explanation[1] == "rule 'Broadband' matched: channel phone in [phone, sms]; keyword '宽带' found"
    assert decision.matched_conditions == ("channel phone in [phone, sms]", "keyword '宽带' found")
    assert decision.explanation[-1] == "priority normal from tier normal"
    assert len(decision.explanation) == 3  # rules after the winner are not tried


def test_skip_lists_every_failed_condition() -> None:
    strict = rule(
        "Strict",
        1,
        Conditions(channels=("email",), attributes=(AttributeCondition("region", "in", ("SH",)),), keywords_all=("a", "b")),
    )
    evaluation = evaluate_rule(strict, ticket(body="a"))
    assert evaluation.status == "skipped"
    assert evaluation.reasons == (
        "channel phone not in [email]",
        "attribute region missing (wanted in ['SH'])",
        "keywords [b] not found",
    )


def test_default_rule_explains_itself() -> None:
    decision = route([DEFAULT], ticket())
    assert decision.explanation[0] == "rule 'Default' matched: no conditions (default rule)"


@pytest.mark.parametrize(
    ("tier", "priority"),
    [
        (Tier.DIAMOND, Priority.HIGH),
        (Tier.GOLD, Priority.HIGH),
        (Tier.SILVER, Priority.NORMAL),
        (Tier.NORMAL, Priority.NORMAL),
        (None, Priority.NORMAL),
    ],
)
def test_priority_from_tier(tier: Tier | None, priority: Priority) -> None:
    assert route([DEFAULT], ticket(tier=tier)).priority is priority


def test_fixed_priority_and_custom_tier_table() -> None:
    urgent = rule("Outage", 1, Conditions(keywords_any=("outage",)), priority=Priority.URGENT, tags=("outage",))
    decision = route([urgent, DEFAULT], ticket(body="Regional OUTAGE"))
    assert decision.priority is Priority.URGENT
    assert decision.outcome.tags == ("outage",)
    assert route([DEFAULT], ticket(tier=Tier.VIP), {Tier.VIP: Priority.HIGH}).priority is Priority.HIGH


def test_department_function_outcome() -> None:
    by_function = RoutingRule(name="Default", position=1, outcome=RuleOutcome(workflow="complaint", department_function="complaints"))
    outcome = route([by_function], ticket()).outcome
    assert outcome.department is None
    assert outcome.department_function == "complaints"


# --- rule-set validation -----------------------------------------------------------------------


def test_rule_set_needs_a_final_default_rule() -> None:
    vip = rule("VIP", 10, Conditions(tiers=(Tier.GOLD,)))
    with pytest.raises(RuleSetError, match=r"the last enabled rule 'VIP' .* must be a default rule"):
        validate_rules([vip])
    disabled_default = RoutingRule(name="Default", position=1000, enabled=False, outcome=DEFAULT.outcome)
    with pytest.raises(RuleSetError, match="last enabled rule 'VIP'"):
        route([vip, disabled_default], ticket())
    with pytest.raises(RuleSetError, match="no enabled rule"):
        validate_rules([disabled_default])


def test_rule_set_refuses_duplicate_positions_and_ids_and_shadowing_defaults() -> None:
    a = rule("A", 10, Conditions(channels=("sms",)))
    b = RoutingRule(id=10, name="B", position=10, conditions=Conditions(channels=("email",)), outcome=a.outcome)
    with pytest.raises(RuleSetError) as caught:
        validate_rules([a, b, DEFAULT])
    assert "position 10 is used by more than one rule ('A', 'B')" in caught.value.problems
    assert "id 10 is used by more than one rule ('A', 'B')" in caught.value.problems
    early_default = RoutingRule(name="Catch-all", position=5, outcome=DEFAULT.outcome)
    with pytest.raises(
        RuleSetError, match=r"'Catch-all' .* no conditions, so the enabled rules after it \('A', 'Default'\) can never match"
    ):
        validate_rules([early_default, a, DEFAULT])


def test_rule_objects_refuse_ambiguous_values() -> None:
    with pytest.raises(ValueError, match=r"conditions\.channels must not be empty"):
        Conditions(channels=())
    with pytest.raises(ValueError, match="exactly one of department and department_function"):
        RuleOutcome(workflow="w", department="D", department_function="f")
    with pytest.raises(ValueError, match="unknown time zone"):
        TimeWindow(timezone="Mars/Olympus", start=time(9), end=time(17))


# --- JSON --------------------------------------------------------------------------------------


FULL_RULE: dict[str, Any] = {
    "id": 7,
    "name": "夜间宽带故障",
    "position": 10,
    "enabled": True,
    "conditions": {
        "channels": ["phone", "wechat"],
        "accounts": ["10086"],
        "categories": ["fault"],
        "keywords_any": ["宽带", "broadband"],
        "keywords_all": ["断网"],
        "languages": ["zh"],
        "tiers": ["diamond", "gold"],
        "attributes": {"plan": "5G-max", "region": {"in": ["SH", "BJ"]}, "enterprise": True},
        "time_windows": [{"timezone": "Asia/Shanghai", "start": "22:00", "end": "06:00", "weekdays": ["mon", "fri"]}],
    },
    "outcome": {"workflow": "fault_repair", "department": "NOC", "priority": "high", "tags": ["night", "broadband"]},
}


def test_json_round_trip() -> None:
    loaded = rule_from_dict(FULL_RULE)
    assert loaded.conditions.tiers == (Tier.DIAMOND, Tier.GOLD)
    assert loaded.conditions.time_windows == (
        TimeWindow(timezone="Asia/Shanghai", start=time(22), end=time(6), weekdays=frozenset({0, 4})),
    )
    assert loaded.outcome.priority is Priority.HIGH
    assert rule_to_dict(loaded) == FULL_RULE
    assert rule_from_dict(rule_to_dict(loaded)) == loaded


def test_minimal_json_rule_gets_defaults() -> None:
    loaded = rule_from_dict({"name": "Default", "position": 1, "outcome": {"workflow": "standard", "department_function": "front_line"}})
    assert loaded.conditions.is_unconditional
    assert loaded.enabled
    assert loaded.outcome.priority == "from_tier"
    assert rule_to_dict(loaded)["conditions"] == {}


@pytest.mark.parametrize(
    ("patch", "errors"),
    [
        ({"position": "10"}, {"position": ["Not a valid integer."]}),
        ({"name": ""}, {"name": ["Length must be between 1 and 200."]}),
        ({"colour": "red"}, {"colour": ["Unknown field."]}),
        ({"conditions": {"channels": []}}, {"conditions": {"channels": ["Must not be empty; leave it out to match anything."]}}),
        ({"conditions": {"tiers": ["platinum"]}}, {"conditions": {"tiers": {0: ["Must be one of: diamond, gold, silver, vip, normal."]}}}),
        ({"conditions": {"keywords_any": ["  "]}}, {"conditions": {"keywords_any": {0: ["A keyword must not be blank."]}}}),
        (
            {"conditions": {"time_windows": [{"timezone": "Asia/Shanghai", "start": "24:00", "end": "06:00"}]}},
            {"conditions": {"time_windows": {0: {"start": ["Not a time of day; expected HH:MM (00:00 to 23:59)."]}}}},
        ),
        (
            {"conditions": {"time_windows": [{"timezone": "Mars/Olympus", "start": "09:00", "end": "17:00"}]}},
            {"conditions": {"time_windows": {0: {"timezone": ["unknown time zone 'Mars/Olympus'"]}}}},
        ),
        (
            {"conditions": {"time_windows": [{"timezone": "UTC", "start": "09:00", "end": "17:00", "weekdays": ["funday"]}]}},
            {
                "conditions": {
                    "time_windows": {0: {"weekdays": ["Expected a non-empty list of weekdays from mon, tue, wed, thu, fri, sat, sun."]}}
                }
            },
        ),
        (
            {"conditions": {"attributes": {"plan": ["a", "b"], "region": {"in": []}}}},
            {
                "conditions": {
                    "attributes": {
                        "plan": ["Expected a JSON scalar (string, number, boolean, null) or an operator object."],
                        "region": ["eq takes one JSON scalar; in takes a non-empty list of them."],
                    }
                }
            },
        ),
        ({"outcome": {"workflow": "w"}}, {"outcome": {"department": ["Give exactly one of department and department_function."]}}),
        (
            {"outcome": {"workflow": "w", "department": "D", "priority": "asap"}},
            {"outcome": {"priority": ["Expected one of low, normal, high, urgent, from_tier."]}},
        ),
        ({"outcome": {"workflow": "w", "department": True}}, {"outcome": {"department": ["Expected a non-empty string or an integer."]}}),
    ],
)
def test_json_errors_name_the_field(patch: dict[str, Any], errors: dict[str, Any]) -> None:
    data = {"name": "R", "position": 1, "outcome": {"workflow": "w", "department": 3}, **patch}
    with pytest.raises(ValidationError) as caught:
        rule_from_dict(data)
    assert caught.value.messages == errors


def test_rule_set_from_json_is_ordered_and_checked() -> None:
    default = {"name": "Default", "position": 100, "outcome": {"workflow": "standard", "department": "FRONT"}}
    rules = rules_from_dicts([default, FULL_RULE])
    assert [r.name for r in rules] == ["夜间宽带故障", "Default"]
    with pytest.raises(RuleSetError):
        rules_from_dicts([FULL_RULE])
    with pytest.raises(ValidationError) as caught:
        rules_from_dicts([default, {"name": "x"}])
    messages: dict[int, dict[str, Any]] = caught.value.messages  # type: ignore[assignment]
    assert set(messages[1]) == {"position", "outcome"}  # keyed by list index
