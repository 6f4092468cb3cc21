"""Assignment: presence, capacity, skills, language, tier matching, round robin, least loaded, plans."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.assignment import (
    AgentCandidate,
    AssignmentRequest,
    Presence,
    SeniorPolicy,
    Strategy,
    TierMatching,
    pick_agent,
    plan_assignments,
    speaks,
    why_ineligible,
)
from workflows.queue_order import Tier

NOW = datetime(2026, 3, 6, 4, 0, tzinfo=UTC)


def agent(agent_id: int, **overrides: Any) -> AgentCandidate:
    values: dict[str, Any] = {
        "agent_id": agent_id,
        "presence": Presence.ONLINE,
        "open_load": 0,
        "capacity": 5,
        "languages": frozenset({"zh", "en"}),
    }
    values.update(overrides)
    return AgentCandidate(**values)


def request(ref: int | str = 1, **overrides: Any) -> AssignmentRequest:
    return AssignmentRequest(ticket_ref=ref, **overrides)


# --- filters -----------------------------------------------------------------------------------


def test_offline_and_away_agents_are_never_chosen() -> None:
    candidates = [agent(1, presence=Presence.OFFLINE), agent(2, presence=Presence.AWAY)]
    for strategy in Strategy:
        decision = pick_agent(request(strategy=strategy), candidates)
        assert decision.agent_id is None
        assert decision.excluded == {1: "is offline", 2: "is away"}
        assert decision.reason.startswith("waits: no eligible agent among 2")


@given(
    presences=st.lists(st.sampled_from(list(Presence)), min_size=1, max_size=8),
    loads=st.lists(st.integers(0, 6), min_size=8, max_size=8),
    strategy=st.sampled_from(list(Strategy)),
    cursor=st.none() | st.integers(0, 9),
)
def test_chosen_agent_is_always_online_and_below_capacity(
    presences: list[Presence], loads: list[int], strategy: Strategy, cursor: int | None
) -> None:
    candidates = [agent(i, presence=p, open_load=loads[i], capacity=3) for i, p in enumerate(presences)]
    decision = pick_agent(request(strategy=strategy), candidates, cursor)
    free = [c for c in candidates if c.online and c.open_load < c.capacity]
    if not free:
        assert decision.agent_id is None
        return
    chosen = next(c for c in candidates if c.agent_id == decision.agent_id)
    assert chosen.online
    assert chosen.open_load < chosen.capacity


def test_capacity_is_respected() -> None:
    candidates = [agent(1, open_load=5, capacity=5), agent(2, open_load=0, capacity=0), agent(3, open_load=4, capacity=5)]
    decision = pick_agent(request(), candidates)
    assert decision.agent_id == 3
    assert decision.excluded == {1: "is at capacity (5/5)", 2: "is at capacity (0/0)"}


def test_required_skills_must_all_be_held() -> None:
    candidates = [agent(1, skills=frozenset({"billing"})), agent(2, skills=frozenset({"billing", "roaming", "5g"}))]
    decision = pick_agent(request(required_skills=frozenset({"billing", "roaming"})), candidates)
    assert decision.agent_id == 2
    assert decision.excluded == {1: "lacks skills [roaming]"}


def test_language_must_match() -> None:
    candidates = [agent(1, languages=frozenset({"en"})), agent(2, languages=frozenset({"zh-CN"}))]
    assert pick_agent(request(language="zh"), candidates).agent_id == 2
    assert pick_agent(request(language="zh-TW"), candidates).agent_id is None
    assert pick_agent(request(language=None), candidates).agent_id == 1


@pytest.mark.parametrize(
    ("spoken", "wanted", "ok"),
    [
        ({"zh"}, "zh-CN", True),
        ({"zh-CN"}, "zh", True),
        ({"ZH_cn"}, "zh-CN", True),
        ({"zh-CN"}, "zh-TW", False),
        ({"zh"}, "zho", False),
        ({"en", ""}, "fr", False),
        (set(), None, True),
    ],
)
def test_speaks(spoken: set[str], wanted: str | None, ok: bool) -> None:
    assert speaks(spoken, wanted) is ok


# --- tier matching -----------------------------------------------------------------------------


def test_diamond_goes_to_a_senior_agent_first() -> None:
    candidates = [agent(1, open_load=0), agent(2, senior=True, open_load=4)]
    decision = pick_agent(request(tier=Tier.DIAMOND), candidates)
    assert decision.agent_id == 2
    assert "senior agent for a diamond customer" in decision.reason
    # A normal customer gets the least-loaded agent, senior or not.
    assert pick_agent(request(tier=Tier.NORMAL), candidates).agent_id == 1


def test_preferred_policy_falls_back_when_no_senior_is_free() -> None:
    candidates = [agent(1), agent(2, senior=True, presence=Presence.AWAY)]
    decision = pick_agent(request(tier=Tier.GOLD), candidates)
    assert decision.agent_id == 1
    assert "fell back to any eligible agent" in decision.reason


def test_strict_policy_makes_the_ticket_wait_for_a_senior() -> None:
    strict = TierMatching(policy=SeniorPolicy.STRICT)
    candidates = [agent(1), agent(2, senior=True, open_load=5)]
    decision = pick_agent(request(tier=Tier.DIAMOND), candidates, tier_matching=strict)
    assert decision.agent_id is None
    assert decision.excluded[1] == "is not senior (strict policy for diamond customers)"
    assert pick_agent(request(tier=Tier.SILVER), candidates, tier_matching=strict).agent_id == 1


def test_tier_matching_can_be_switched_off_or_widened() -> None:
    candidates = [agent(1), agent(2, senior=True, open_load=3)]
    assert pick_agent(request(tier=Tier.DIAMOND), candidates, tier_matching=TierMatching(policy=SeniorPolicy.OFF)).agent_id == 1
    silver_too = TierMatching(senior_tiers=frozenset({Tier.DIAMOND, Tier.GOLD, Tier.SILVER}))
    assert pick_agent(request(tier=Tier.SILVER), candidates, tier_matching=silver_too).agent_id == 2


def test_why_ineligible_serves_transfer_checks() -> None:
    assert why_ineligible(request(), agent(1)) is None
    assert why_ineligible(request(language="fr"), agent(1)) == "does not speak fr"


# --- round robin -------------------------------------------------------------------------------


def test_round_robin_rotates_in_id_order_from_the_cursor() -> None:
    candidates = [agent(30), agent(10), agent(20)]
    rr = request(strategy=Strategy.ROUND_ROBIN)
    picks = []
    cursor: int | None = None
    for _ in range(6):
        decision = pick_agent(rr, candidates, cursor)
        picks.append(decision.agent_id)
        cursor = decision.cursor
    assert picks == [10, 20, 30, 10, 20, 30]


def test_round_robin_skips_an_agent_who_left_and_survives_a_vanished_cursor() -> None:
    rr = request(strategy=Strategy.ROUND_ROBIN)
    candidates = [agent(1), agent(2, presence=Presence.OFFLINE), agent(3)]
    assert pick_agent(rr, candidates, 1).agent_id == 3
    assert pick_agent(rr, candidates, 3).agent_id == 1
    assert pick_agent(rr, [agent(5), agent(9)], 7).agent_id == 9  # agent 7 no longer in the queue


@given(
    eligible=st.integers(1, 7),
    blocked=st.integers(0, 4),
    picks=st.integers(1, 60),
    start=st.none() | st.integers(0, 20),
)
def test_round_robin_is_fair_within_one(eligible: int, blocked: int, picks: int, start: int | None) -> None:
    candidates = [agent(i * 2) for i in range(eligible)] + [agent(i * 2 + 1, presence=Presence.OFFLINE) for i in range(blocked)]
    counts: Counter[int] = Counter()
    cursor = start
    for _ in range(picks):
        decision = pick_agent(request(strategy=Strategy.ROUND_ROBIN), candidates, cursor)
        assert decision.agent_id is not None
        counts[decision.agent_id] += 1
        cursor = decision.cursor
    shares = [counts[c.agent_id] for c in candidates if c.online]
    assert sum(shares) == picks
    assert max(shares) - min(shares) <= 1


# --- least loaded ------------------------------------------------------------------------------


def test_least_loaded_uses_the_load_ratio() -> None:
    candidates = [
        agent(1, open_load=2, capacity=4),
        agent(2, open_load=3, capacity=10),
        agent(3, open_load=0, capacity=1, presence=Presence.AWAY),
    ]
    decision = pick_agent(request(), candidates)
    assert decision.agent_id == 2
    assert decision.reason.startswith("agent 2: least loaded (3/10)")


def test_least_loaded_breaks_ties_by_longest_idle() -> None:
    candidates = [
        agent(1, open_load=1, last_assigned_at=NOW - timedelta(minutes=5)),
        agent(2, open_load=1, last_assigned_at=NOW - timedelta(minutes=50)),
        agent(3, open_load=2),
    ]
    assert pick_agent(request(), candidates).agent_id == 2
    never = [*candidates, agent(4, open_load=1)]
    assert pick_agent(request(), never).agent_id == 4  # never assigned counts as idle longest


def test_candidate_checks_its_values() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        agent(1, open_load=-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        agent(1, last_assigned_at=datetime(2026, 3, 6, 12, 0))


# --- plans: assign the moment someone is free --------------------------------------------------


def test_plan_serves_tickets_in_queue_order_within_capacity() -> None:
    waiting = [request(ref) for ref in ("t1", "t2", "t3", "t4", "t5")]
    candidates = [agent(1, open_load=4), agent(2, open_load=3), agent(3, presence=Presence.OFFLINE)]
    plan = plan_assignments(waiting, candidates, now=NOW)
    assert [(a.request.ticket_ref, a.agent_id) for a in plan.assignments] == [("t1", 2), ("t2", 1), ("t3", 2)]
    assert [r.ticket_ref for r in plan.waiting] == ["t4", "t5"]


def test_plan_skips_a_ticket_nobody_can_take_without_blocking_the_rest() -> None:
    waiting = [request("french", language="fr"), request("next"), request("last")]
    plan = plan_assignments(waiting, [agent(1, open_load=3)], now=NOW)
    assert [a.request.ticket_ref for a in plan.assignments] == ["next", "last"]
    assert [r.ticket_ref for r in plan.waiting] == ["french"]


def test_plan_when_one_agent_frees_a_slot_gives_it_to_the_top_ticket() -> None:
    waiting = [request("top"), request("second")]
    plan = plan_assignments(waiting, [agent(1, open_load=4), agent(2, presence=Presence.AWAY)], now=NOW)
    assert [(a.request.ticket_ref, a.agent_id) for a in plan.assignments] == [("top", 1)]
    assert [r.ticket_ref for r in plan.waiting] == ["second"]


def test_plan_round_robin_carries_the_cursor() -> None:
    waiting = [request(i, strategy=Strategy.ROUND_ROBIN) for i in range(5)]
    plan = plan_assignments(waiting, [agent(1), agent(2), agent(3)], now=NOW, round_robin_cursor=2)
    assert [a.agent_id for a in plan.assignments] == [3, 1, 2, 3, 1]
    assert plan.cursor == 1


@given(
    loads=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.booleans()), min_size=0, max_size=6),
    tickets=st.integers(0, 25),
    strategy=st.sampled_from(list(Strategy)),
)
def test_plan_never_exceeds_capacity_and_serves_a_prefix(loads: list[tuple[int, int, bool]], tickets: int, strategy: Strategy) -> None:
    candidates = [
        agent(i, open_load=min(load, cap), capacity=cap, presence=Presence.ONLINE if on else Presence.OFFLINE)
        for i, (load, cap, on) in enumerate(loads)
    ]
    waiting = [request(n, strategy=strategy) for n in range(tickets)]
    plan = plan_assignments(waiting, candidates, now=NOW)
    given_to = Counter(a.agent_id for a in plan.assignments)
    for c in candidates:
        assert c.open_load + given_to[c.agent_id] <= c.capacity
        if not c.online:
            assert given_to[c.agent_id] == 0
    free = sum(c.free_slots for c in candidates if c.online)
    assert len(plan.assignments) == min(free, tickets)
    # Identical tickets: the top of the queue is served, the rest wait in order.
    assert [a.request.ticket_ref for a in plan.assignments] == list(range(len(plan.assignments)))
    assert [r.ticket_ref for r in plan.waiting] == list(range(len(plan.assignments), tickets))


def test_plan_spreads_least_loaded_work_and_stamps_now() -> None:
    waiting = [request(i) for i in range(4)]
    plan = plan_assignments(waiting, [agent(1), agent(2)], now=NOW)
    assert [a.agent_id for a in plan.assignments] == [1, 2, 1, 2]


def test_plan_refuses_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_assignments([], [], now=datetime(2026, 3, 6))
