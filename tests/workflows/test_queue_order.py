"""Queue order: the tier guarantee, priority first, waiting time and SLA risk raise the score."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from workflows.queue_order import (
    DEFAULT_WEIGHTS,
    Priority,
    QueuedTicket,
    QueueWeights,
    Tier,
    order_queue,
    queue_score,
    sla_risk_points,
    waiting_points,
)

YEAR = 366 * 24 * 3600.0
waits = st.floats(min_value=-60, max_value=100 * YEAR, allow_nan=False)
remaining = st.none() | st.floats(min_value=-100 * YEAR, max_value=100 * YEAR, allow_nan=False)
priorities = st.sampled_from(list(Priority))
tiers = st.sampled_from(list(Tier))


@given(
    priority=priorities,
    protected=st.sampled_from([Tier.DIAMOND, Tier.GOLD]),
    protected_wait=waits,
    protected_sla=remaining,
    normal_wait=waits,
    normal_sla=remaining,
)
def test_same_priority_diamond_and_gold_never_rank_below_normal(
    priority: Priority, protected: Tier, protected_wait: float, protected_sla: float | None, normal_wait: float, normal_sla: float | None
) -> None:
    top = queue_score(protected, priority, protected_wait, protected_sla)
    normal = queue_score(Tier.NORMAL, priority, normal_wait, normal_sla)
    assert top > normal
    tickets = [
        QueuedTicket("n", Tier.NORMAL, priority, normal_wait, normal_sla),
        QueuedTicket("p", protected, priority, protected_wait, protected_sla),
    ]
    assert [t.ref for t in order_queue(tickets)] == ["p", "n"]


@given(
    tier_gap=st.floats(min_value=1, max_value=10_000),
    waiting_share=st.floats(min_value=0, max_value=1),
    slack=st.floats(min_value=0.001, max_value=0.999),
    priority=priorities,
    protected_wait=waits,
    protected_sla=remaining,
    normal_wait=waits,
    normal_sla=remaining,
)
def test_guarantee_holds_for_any_accepted_weights(
    tier_gap: float,
    waiting_share: float,
    slack: float,
    priority: Priority,
    protected_wait: float,
    protected_sla: float | None,
    normal_wait: float,
    normal_sla: float | None,
) -> None:
    dynamic = tier_gap * slack  # any split of less than the tier gap between waiting and risk
    weights = QueueWeights(
        tier_points={Tier.DIAMOND: tier_gap, Tier.GOLD: tier_gap, Tier.SILVER: 0, Tier.VIP: 0, Tier.NORMAL: 0},
        waiting_max_points=dynamic * waiting_share,
        sla_risk_max_points=dynamic * (1 - waiting_share),
    )
    assert queue_score(Tier.GOLD, priority, protected_wait, protected_sla, weights) > queue_score(
        Tier.NORMAL, priority, normal_wait, normal_sla, weights
    )


def test_weights_that_would_break_the_guarantee_are_refused() -> None:
    with pytest.raises(ValueError, match=r"tier_points\[gold\] - tier_points\[normal\] = 300 must exceed .* = 300"):
        QueueWeights(waiting_max_points=160)
    with pytest.raises(ValueError, match="protected_tiers cannot contain normal"):
        QueueWeights(protected_tiers=frozenset({Tier.NORMAL}))
    with pytest.raises(ValueError, match="tier_points lacks vip"):
        QueueWeights(tier_points={Tier.DIAMOND: 400, Tier.GOLD: 300, Tier.SILVER: 200, Tier.NORMAL: 0})
    with pytest.raises(ValueError, match="must be a finite number"):
        QueueWeights(waiting_max_points=float("inf"))
    with pytest.raises(ValueError, match="must be positive"):
        QueueWeights(sla_risk_horizon_seconds=0)
    # Protecting silver too needs a wider silver band; then it holds.
    with pytest.raises(ValueError, match=r"tier_points\[silver\]"):
        QueueWeights(protected_tiers=frozenset({Tier.DIAMOND, Tier.GOLD, Tier.SILVER}))
    QueueWeights(
        protected_tiers=frozenset({Tier.SILVER}),
        tier_points={Tier.DIAMOND: 400, Tier.GOLD: 300, Tier.SILVER: 295, Tier.VIP: 100, Tier.NORMAL: 0},
    )


def test_silver_gets_a_head_start_not_a_guarantee() -> None:
    fresh_silver = queue_score(Tier.SILVER, Priority.NORMAL, 0, None)
    breaching_normal = queue_score(Tier.NORMAL, Priority.NORMAL, 3600, -60)
    assert breaching_normal > fresh_silver
    assert queue_score(Tier.SILVER, Priority.NORMAL, 0, None) > queue_score(Tier.NORMAL, Priority.NORMAL, 0, None)


@given(tier=tiers, low=priorities, high=priorities, wait_low=waits, wait_high=waits, sla_low=remaining, sla_high=remaining)
def test_higher_priority_first_within_a_tier(
    tier: Tier, low: Priority, high: Priority, wait_low: float, wait_high: float, sla_low: float | None, sla_high: float | None
) -> None:
    assume(high > low)
    assert queue_score(tier, high, wait_high, sla_high) > queue_score(tier, low, wait_low, sla_low)


@given(low_tier=tiers, high_tier=tiers, low=priorities, high=priorities, wait=waits, sla=remaining)
def test_by_default_priority_outranks_any_tier(
    low_tier: Tier, high_tier: Tier, low: Priority, high: Priority, wait: float, sla: float | None
) -> None:
    assume(high > low)
    assert DEFAULT_WEIGHTS.priority_dominates
    assert queue_score(high_tier, high, 0, None) > queue_score(low_tier, low, wait, sla)


def test_priority_dominance_is_reported_for_custom_weights() -> None:
    flat = QueueWeights(priority_points={Priority.LOW: 0, Priority.NORMAL: 100, Priority.HIGH: 200, Priority.URGENT: 300})
    assert not flat.priority_dominates


@given(tier=tiers, priority=priorities, a=waits, b=waits, sla=remaining)
def test_waiting_longer_never_lowers_the_score(tier: Tier, priority: Priority, a: float, b: float, sla: float | None) -> None:
    shorter, longer = sorted((a, b))
    assert queue_score(tier, priority, longer, sla) >= queue_score(tier, priority, shorter, sla)


@given(a=st.floats(min_value=0, max_value=30 * 24 * 3600.0), b=st.floats(min_value=0, max_value=30 * 24 * 3600.0))
def test_waiting_term_is_strictly_increasing_over_a_month_and_bounded(a: float, b: float) -> None:
    assume(b - a >= 1)
    assert waiting_points(a) < waiting_points(b) < DEFAULT_WEIGHTS.waiting_max_points


@given(a=st.floats(min_value=-YEAR, max_value=YEAR), b=st.floats(min_value=-YEAR, max_value=YEAR))
def test_less_time_to_the_deadline_never_lowers_the_score(a: float, b: float) -> None:
    sooner, later = sorted((a, b))
    assert sla_risk_points(sooner) >= sla_risk_points(later)
    assert 0 <= sla_risk_points(sooner) <= DEFAULT_WEIGHTS.sla_risk_max_points


def test_score_formula_at_known_points() -> None:
    # Normal priority (1000) + gold (300) + waiting half-life (75) + half the risk horizon left (70).
    assert queue_score(Tier.GOLD, Priority.NORMAL, 600, 900) == pytest.approx(1445)
    assert sla_risk_points(None) == 0
    assert sla_risk_points(1800) == 0
    assert sla_risk_points(0) == sla_risk_points(-3600) == 140
    assert waiting_points(-5) == 0


def test_non_finite_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="waiting_seconds"):
        queue_score(Tier.NORMAL, Priority.NORMAL, float("nan"))
    with pytest.raises(ValueError, match="sla_remaining_seconds"):
        queue_score(Tier.NORMAL, Priority.NORMAL, 0, float("-inf"))


def test_order_queue_sorts_by_score_then_longest_wait_and_keeps_ties_stable() -> None:
    tickets = [
        QueuedTicket(1, Tier.NORMAL, Priority.NORMAL, 60),
        QueuedTicket(2, Tier.NORMAL, Priority.URGENT, 0),
        QueuedTicket(3, Tier.DIAMOND, Priority.NORMAL, 0),
        QueuedTicket(4, Tier.NORMAL, Priority.NORMAL, 600, sla_remaining_seconds=60),
        QueuedTicket(5, Tier.NORMAL, Priority.NORMAL, 60),
        QueuedTicket(6, Tier.NORMAL, Priority.LOW, 10 * YEAR),
    ]
    assert [t.ref for t in order_queue(tickets)] == [2, 3, 4, 1, 5, 6]


def test_priority_names() -> None:
    assert Priority.from_name(" High ") is Priority.HIGH
    assert Priority.URGENT.label == "urgent"
    with pytest.raises(ValueError, match="expected one of low, normal, high, urgent"):
        Priority.from_name("asap")
