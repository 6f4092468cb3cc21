"""SLA policy choice and clock transitions (pause, resume, extend, stop, breach)."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.business_time import china_calendar
from workflows.sla import (
    Clock,
    ClockError,
    ClockEventKind,
    ClockKind,
    ClockState,
    ClockStatus,
    SlaPolicy,
    SlaTargets,
    choose_policy,
    extend_clock,
    is_overdue,
    pause_clock,
    remaining_at,
    resume_clock,
    start_clock,
    stop_clock,
    used_at,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0
CHINA = china_calendar([2026, 2027])  # Mon-Fri 09:00-12:00 and 13:00-18:00


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour, minute), SHANGHAI)


# -- policies ----------------------------------------------------------------------------------

TARGETS = SlaTargets(first_response=HOUR, resolution=8 * HOUR)
DEFAULT = SlaPolicy("default", TARGETS)
GOLD = SlaPolicy("gold", TARGETS, tier="gold")
GOLD_URGENT = SlaPolicy("gold urgent", TARGETS, tier="gold", priority="urgent")
URGENT_SMS_FAULT = SlaPolicy("urgent sms fault", TARGETS, priority="urgent", channel="sms", category="fault")
GOLD_SMS = SlaPolicy("gold sms", TARGETS, tier="gold", channel="sms")
URGENT_FAULT = SlaPolicy("urgent fault", TARGETS, priority="urgent", category="fault")
POLICIES = [DEFAULT, URGENT_FAULT, GOLD_SMS, URGENT_SMS_FAULT, GOLD_URGENT, GOLD]


def test_the_default_policy_matches_anything() -> None:
    assert choose_policy(POLICIES, tier="silver", priority="low", channel="email", category="billing") is DEFAULT
    assert choose_policy(POLICIES) is DEFAULT
    assert choose_policy([GOLD], tier="silver") is None


def test_more_criteria_win() -> None:
    assert choose_policy(POLICIES, tier="gold", priority="low") is GOLD
    assert choose_policy(POLICIES, tier="gold", priority="urgent", channel="email") is GOLD_URGENT
    # Three criteria beat two, even without the tier.
    assert choose_policy(POLICIES, tier="gold", priority="urgent", channel="sms", category="fault") is URGENT_SMS_FAULT


def test_with_as_many_criteria_tier_then_priority_then_channel_then_category_win() -> None:
    # gold+sms (tier, channel) beats urgent+fault (priority, category); gold+urgent beats both.
    assert choose_policy([URGENT_FAULT, GOLD_SMS], tier="gold", priority="urgent", channel="sms", category="fault") is GOLD_SMS
    assert (
        choose_policy([URGENT_FAULT, GOLD_SMS, GOLD_URGENT], tier="gold", priority="urgent", channel="sms", category="fault") is GOLD_URGENT
    )


def test_a_full_tie_goes_to_the_first_listed() -> None:
    twin = SlaPolicy("gold again", SlaTargets(first_response=60), tier="gold")
    assert choose_policy([GOLD, twin], tier="gold") is GOLD
    assert choose_policy([twin, GOLD], tier="gold") is twin


def test_targets_and_shares_are_validated() -> None:
    assert TARGETS.for_clock(ClockKind.NEXT_RESPONSE) is None
    assert TARGETS.for_clock(ClockKind.RESOLUTION) == 8 * HOUR
    with pytest.raises(ValueError, match="positive"):
        SlaTargets(first_response=0)
    with pytest.raises(ValueError, match="warning_share"):
        SlaPolicy("bad", TARGETS, warning_share=1.5)


# -- clocks ------------------------------------------------------------------------------------


def test_start_sets_due_and_warning_times() -> None:
    # Mon 2 Mar 10:00 + 4 h: 10:00-12:00, 13:00-15:00. Warning at 75 % = 3 h: 14:00.
    step = start_clock(at(2, 10), 4 * HOUR, CHINA)
    assert step.state.status is ClockStatus.RUNNING
    assert step.state.due_at == at(2, 15)
    assert step.state.warn_at == at(2, 14)
    assert step.event.kind is ClockEventKind.STARTED and step.event.business_used == 0


def test_pause_resume_extend_stop() -> None:
    clock = Clock.start(at(2, 10), 4 * HOUR, CHINA)
    clock.pause(at(2, 11))  # pending on the customer: 1 h used
    assert clock.status is ClockStatus.PAUSED
    assert clock.due_at is None and clock.warn_at is None
    assert clock.state.business_seconds_used == HOUR
    assert clock.business_used(at(4, 12)) == HOUR  # nothing counts while paused

    clock.resume(at(4, 9))  # Wed 09:00, 3 h left: due exactly at the 12:00 lunch break
    assert clock.due_at == at(4, 12)
    assert clock.warn_at == at(4, 11)  # 3 h - 1 h used

    clock.extend(at(4, 10), by_seconds=HOUR)  # approved: 5 h in all
    assert clock.due_at == at(4, 14)
    assert clock.state.target_seconds == 5 * HOUR
    assert clock.warn_at == at(4, 11, 45)  # 3.75 h - 1 h = 2.75 h after 09:00

    clock.stop(at(4, 13, 30))
    assert clock.status is ClockStatus.MET
    assert clock.state.business_seconds_used == 4.5 * HOUR
    assert clock.state.stopped_at == at(4, 13, 30)
    assert [(e.kind, e.business_used) for e in clock.history] == [
        (ClockEventKind.STARTED, 0),
        (ClockEventKind.PAUSED, HOUR),
        (ClockEventKind.RESUMED, HOUR),
        (ClockEventKind.EXTENDED, HOUR),
        (ClockEventKind.STOPPED, 4.5 * HOUR),
    ]


def test_breach_is_detected_from_stored_fields() -> None:
    state = start_clock(at(2, 10), HOUR, CHINA).state
    assert not is_overdue(state, at(2, 11))
    assert is_overdue(state, at(2, 11, 1))
    assert remaining_at(state, at(2, 13, 30), CHINA) == -1.5 * HOUR  # 10:00-12:00 and 13:00-13:30 used
    assert stop_clock(state, at(2, 11), CHINA).state.status is ClockStatus.MET
    breached = stop_clock(state, at(2, 13, 1), CHINA).state  # 10:00-12:00, lunch, then one minute
    assert breached.status is ClockStatus.BREACHED
    assert breached.business_seconds_used == 2 * HOUR + 60
    assert is_overdue(breached, at(2, 9))


def test_a_clock_resumed_past_its_target_is_overdue_at_once() -> None:
    state = start_clock(at(2, 10), HOUR, CHINA, warning_share=0.5).state
    state = pause_clock(state, at(2, 15), CHINA).state  # 2 h + 2 h = 4 h used
    assert is_overdue(state, at(2, 15))
    state = resume_clock(state, at(3, 9), CHINA).state
    assert state.due_at == at(3, 9) and state.warn_at == at(3, 9)
    assert stop_clock(state, at(3, 9), CHINA).state.status is ClockStatus.BREACHED


def test_stopping_a_paused_clock_judges_the_used_time() -> None:
    state = pause_clock(start_clock(at(2, 10), HOUR, CHINA).state, at(2, 10, 30), CHINA).state
    assert stop_clock(state, at(9, 10), CHINA).state.status is ClockStatus.MET


def test_extend_while_paused_and_to_a_new_target() -> None:
    state = pause_clock(start_clock(at(2, 10), 2 * HOUR, CHINA).state, at(2, 11), CHINA).state
    state = extend_clock(state, at(2, 12), CHINA, new_target=3 * HOUR).state
    assert state.status is ClockStatus.PAUSED and state.due_at is None and state.target_seconds == 3 * HOUR
    assert resume_clock(state, at(3, 9), CHINA).state.due_at == at(3, 11)


def test_the_state_round_trips_through_its_stored_fields() -> None:
    """The service stores the fields as columns; a clock rebuilt from them carries on the same."""
    state = pause_clock(start_clock(at(2, 10), 4 * HOUR, CHINA).state, at(2, 11), CHINA).state
    stored = asdict(state)
    assert set(stored) == {f.name for f in fields(ClockState)}
    rebuilt = ClockState(**stored)
    assert resume_clock(rebuilt, at(4, 9), CHINA) == resume_clock(state, at(4, 9), CHINA)


def test_invalid_transitions_are_refused() -> None:
    running = start_clock(at(2, 10), HOUR, CHINA).state
    paused = pause_clock(running, at(2, 10, 30), CHINA).state
    stopped = stop_clock(running, at(2, 10, 30), CHINA).state
    with pytest.raises(ClockError):
        pause_clock(paused, at(2, 11), CHINA)
    with pytest.raises(ClockError):
        resume_clock(running, at(2, 11), CHINA)
    with pytest.raises(ClockError):
        stop_clock(stopped, at(2, 11), CHINA)
    with pytest.raises(ClockError):
        extend_clock(stopped, at(2, 11), CHINA, by_seconds=60)
    with pytest.raises(ClockError, match="lengthen"):
        extend_clock(running, at(2, 11), CHINA, new_target=60)
    with pytest.raises(ClockError, match="exactly one"):
        extend_clock(running, at(2, 11), CHINA)
    with pytest.raises(ClockError, match="before"):
        pause_clock(running, at(2, 9), CHINA)
    with pytest.raises(ClockError, match="positive"):
        start_clock(at(2, 10), 0, CHINA)


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC))


@given(
    instants,
    st.floats(min_value=60, max_value=10 * 8 * HOUR),
    st.lists(st.tuples(st.floats(min_value=0, max_value=3 * 8 * HOUR), st.floats(min_value=1, max_value=5 * 86400)), max_size=6),
)
def test_clock_pauses_add_up(start: datetime, target: float, segments: list[tuple[float, float]]) -> None:
    """Whatever the pauses, the used time is the sum of the running stretches, and due_at is where the target runs out."""
    clock = Clock.start(start, target, CHINA)
    t, counted = start, 0.0
    for run, pause in segments:
        t = CHINA.add(t, run)
        counted += run
        clock.pause(t)
        assert clock.state.business_seconds_used == pytest.approx(counted, abs=1e-5)
        t += timedelta(seconds=pause)
        clock.resume(t)
        if counted < target:
            assert CHINA.between(t, clock.due_at or t) == pytest.approx(target - counted, abs=1e-5)
    due = clock.due_at
    assert due is not None
    assert used_at(clock.state, due, CHINA) == pytest.approx(max(target, counted), abs=1e-5)
    if abs(counted - target) > 1e-5:  # closer than that is one microsecond of datetime resolution: either answer is right
        assert clock.stop(due).status is (ClockStatus.MET if counted < target else ClockStatus.BREACHED)
