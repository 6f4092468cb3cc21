"""SLA policies chosen by tier, priority, channel and category, and the clocks that count against them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Calendar(Protocol):
    """What a clock needs of a calendar (workflows.business_time.BusinessCalendar has it)."""

    def add(self, start: datetime, seconds: float) -> datetime: ...

    def between(self, a: datetime, b: datetime) -> float: ...


class ClockKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Business seconds allowed per clock; None means the policy sets no such clock."""

    first_response: float | None = None
    next_response: float | None = None
    resolution: float | None = None

    def __post_init__(self) -> None:
        for kind in ClockKind:
            value = self.for_clock(kind)
            if value is not None and not value > 0:
                raise ValueError(f"{kind} target must be positive, not {value}")

    def for_clock(self, kind: ClockKind) -> float | None:
        value: float | None = getattr(self, kind.value)
        return value


# Criteria in falling weight: among policies matching the same number of criteria, one that
# fixes the tier beats one that does not, then priority, channel, category.
_CRITERIA = ("tier", "priority", "channel", "category")


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Targets for tickets matching every criterion that is set (None matches anything)."""

    name: str
    targets: SlaTargets
    tier: str | None = None
    priority: str | None = None
    channel: str | None = None
    category: str | None = None
    calendar: str = "default"
    warning_share: float = 0.75

    def __post_init__(self) -> None:
        if not 0 < self.warning_share <= 1:
            raise ValueError(f"warning_share must be in (0, 1], not {self.warning_share}")

    def matches(self, tier: str | None, priority: str | None, channel: str | None, category: str | None) -> bool:
        return all(
            wanted is None or wanted == actual
            for wanted, actual in zip(
                (self.tier, self.priority, self.channel, self.category), (tier, priority, channel, category), strict=True
            )
        )

    @property
    def specificity(self) -> tuple[int, int]:
        """(criteria set, their weights as a bit mask tier=8 priority=4 channel=2 category=1)."""
        fixed = [getattr(self, name) is not None for name in _CRITERIA]
        mask = sum(1 << (len(_CRITERIA) - 1 - n) for n, is_set in enumerate(fixed) if is_set)
        return sum(fixed), mask


def choose_policy(
    policies: Iterable[SlaPolicy],
    tier: str | None = None,
    priority: str | None = None,
    channel: str | None = None,
    category: str | None = None,
) -> SlaPolicy | None:
    """The most specific policy matching the ticket, or None if none matches.

    Precedence: more criteria matched wins (tier+priority+channel beats tier+priority); with as
    many criteria, the heavier ones win in the order tier, priority, channel, category (tier+channel
    beats priority+category); a full tie goes to the policy listed first. A policy with no criteria
    is the default and always matches.
    """
    best: SlaPolicy | None = None
    best_rank = (-1, -1)
    for policy in policies:
        if policy.matches(tier, priority, channel, category) and policy.specificity > best_rank:
            best, best_rank = policy, policy.specificity
    return best


# Used times are sums of float seconds; datetimes carry microseconds, so noise below that is not a breach.
_EPSILON = 1e-6


class ClockStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class ClockEventKind(StrEnum):
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    EXTENDED = "extended"
    STOPPED = "stopped"


class ClockError(ValueError):
    """A transition that the clock's status or the order of times does not allow."""


@dataclass(frozen=True, slots=True)
class ClockState:
    """Everything stored for one clock; every question about it is answered from these fields.

    business_seconds_used counts up to running_since while running, and in full otherwise, so the
    used time at any instant is business_seconds_used + calendar.between(running_since, now).
    due_at and warn_at are set only while running (pausing clears them; they are indexed to find
    clocks to warn or breach); a stopped clock keeps the due_at it was judged against.
    """

    status: ClockStatus
    target_seconds: float
    warning_share: float
    business_seconds_used: float
    started_at: datetime
    running_since: datetime | None = None
    paused_at: datetime | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def is_stopped(self) -> bool:
        return self.status in (ClockStatus.MET, ClockStatus.BREACHED)


@dataclass(frozen=True, slots=True)
class ClockEvent:
    """One history entry: what happened, when, and the business time used at that moment."""

    kind: ClockEventKind
    at: datetime
    business_used: float
    due_at: datetime | None
    target_seconds: float


@dataclass(frozen=True, slots=True)
class Step:
    """A transition's result: the new state to store and the history entry to append."""

    state: ClockState
    event: ClockEvent


def _step(state: ClockState, kind: ClockEventKind, at: datetime) -> Step:
    return Step(state, ClockEvent(kind, at, state.business_seconds_used, state.due_at, state.target_seconds))


def _schedule(state: ClockState, since: datetime, calendar: Calendar) -> ClockState:
    """Running from `since` with the given used time: compute due_at and warn_at."""
    used = state.business_seconds_used
    due_at = calendar.add(since, max(state.target_seconds - used, 0.0))
    warn_used = state.target_seconds * state.warning_share
    # A clock resumed past its warning share warns at once; the escalation ladder keeps one
    # warning per clock, so a warning already sent is not repeated.
    warn_at = calendar.add(since, warn_used - used) if used < warn_used - _EPSILON else since
    return replace(state, status=ClockStatus.RUNNING, running_since=since, paused_at=None, due_at=due_at, warn_at=warn_at)


def _check_order(state: ClockState, at: datetime) -> None:
    latest = max(t for t in (state.started_at, state.running_since, state.paused_at) if t is not None)
    if at < latest:
        raise ClockError(f"{at.isoformat()} is before the clock's last change at {latest.isoformat()}")


def start_clock(at: datetime, target_seconds: float, calendar: Calendar, warning_share: float = 0.75) -> Step:
    """A running clock with due_at = `at` plus the target in business time."""
    if not target_seconds > 0:
        raise ClockError(f"target must be positive, not {target_seconds}")
    if not 0 < warning_share <= 1:
        raise ClockError(f"warning_share must be in (0, 1], not {warning_share}")
    state = ClockState(ClockStatus.RUNNING, float(target_seconds), warning_share, 0.0, started_at=at)
    return _step(_schedule(state, at, calendar), ClockEventKind.STARTED, at)


def used_at(state: ClockState, at: datetime, calendar: Calendar) -> float:
    """Business seconds used by `at` (the stored total unless running)."""
    if state.status is ClockStatus.RUNNING and state.running_since is not None:
        return state.business_seconds_used + calendar.between(state.running_since, at)
    return state.business_seconds_used


def remaining_at(state: ClockState, at: datetime, calendar: Calendar) -> float:
    """Business seconds left before the target (negative once overdue)."""
    return state.target_seconds - used_at(state, at, calendar)


def is_overdue(state: ClockState, at: datetime) -> bool:
    """Breached already, or still open and past its target at `at` (no calendar needed)."""
    if state.status is ClockStatus.RUNNING:
        return state.due_at is not None and at > state.due_at
    if state.status is ClockStatus.PAUSED:
        return state.business_seconds_used > state.target_seconds + _EPSILON
    return state.status is ClockStatus.BREACHED


def pause_clock(state: ClockState, at: datetime, calendar: Calendar) -> Step:
    """Stop counting (pending, on hold, suspended): bank the used time, clear due_at and warn_at."""
    if state.status is not ClockStatus.RUNNING:
        raise ClockError(f"cannot pause a {state.status} clock")
    _check_order(state, at)
    paused = replace(
        state,
        status=ClockStatus.PAUSED,
        business_seconds_used=used_at(state, at, calendar),
        running_since=None,
        paused_at=at,
        due_at=None,
        warn_at=None,
    )
    return _step(paused, ClockEventKind.PAUSED, at)


def resume_clock(state: ClockState, at: datetime, calendar: Calendar) -> Step:
    """Count again: due_at = calendar.add(at, what remains of the target)."""
    if state.status is not ClockStatus.PAUSED:
        raise ClockError(f"cannot resume a {state.status} clock")
    _check_order(state, at)
    return _step(_schedule(state, at, calendar), ClockEventKind.RESUMED, at)


def extend_clock(
    state: ClockState, at: datetime, calendar: Calendar, *, by_seconds: float | None = None, new_target: float | None = None
) -> Step:
    """An approved extension: a longer target (by `by_seconds`, or to `new_target`) moves due_at."""
    if (by_seconds is None) == (new_target is None):
        raise ClockError("give exactly one of by_seconds and new_target")
    if state.is_stopped:
        raise ClockError(f"cannot extend a {state.status} clock")
    _check_order(state, at)
    target = state.target_seconds + by_seconds if by_seconds is not None else float(new_target or 0.0)
    if not target > state.target_seconds:
        raise ClockError(f"an extension must lengthen the target ({state.target_seconds} s), not set {target} s")
    extended = replace(state, target_seconds=target)
    if state.status is ClockStatus.RUNNING and state.running_since is not None:
        # Reschedule from the current segment's start: the banked used time is as of that instant.
        extended = _schedule(extended, state.running_since, calendar)
    return _step(extended, ClockEventKind.EXTENDED, at)


def stop_clock(state: ClockState, at: datetime, calendar: Calendar) -> Step:
    """The awaited thing happened: met if by due_at (or within the target while paused), else breached."""
    if state.is_stopped:
        raise ClockError(f"cannot stop a {state.status} clock")
    _check_order(state, at)
    used = used_at(state, at, calendar)
    if state.status is ClockStatus.RUNNING:
        # Judged against the stored due time; the banked check catches a clock resumed already overdue.
        met = state.due_at is not None and at <= state.due_at and state.business_seconds_used <= state.target_seconds + _EPSILON
    else:
        met = used <= state.target_seconds + _EPSILON
    stopped = replace(
        state,
        status=ClockStatus.MET if met else ClockStatus.BREACHED,
        business_seconds_used=used,
        running_since=None,
        paused_at=None,
        warn_at=None,
        stopped_at=at,
    )
    return _step(stopped, ClockEventKind.STOPPED, at)


@dataclass
class Clock:
    """One clock in memory: the stored state plus its history, for callers that keep both."""

    calendar: Calendar
    state: ClockState
    history: list[ClockEvent] = field(default_factory=list)

    @classmethod
    def start(cls, at: datetime, target_seconds: float, calendar: Calendar, warning_share: float = 0.75) -> Clock:
        step = start_clock(at, target_seconds, calendar, warning_share)
        return cls(calendar, step.state, [step.event])

    def _apply(self, step: Step) -> Clock:
        self.state = step.state
        self.history.append(step.event)
        return self

    def pause(self, at: datetime) -> Clock:
        return self._apply(pause_clock(self.state, at, self.calendar))

    def resume(self, at: datetime) -> Clock:
        return self._apply(resume_clock(self.state, at, self.calendar))

    def extend(self, at: datetime, *, by_seconds: float | None = None, new_target: float | None = None) -> Clock:
        return self._apply(extend_clock(self.state, at, self.calendar, by_seconds=by_seconds, new_target=new_target))

    def stop(self, at: datetime) -> Clock:
        return self._apply(stop_clock(self.state, at, self.calendar))

    def business_used(self, at: datetime) -> float:
        return used_at(self.state, at, self.calendar)

    @property
    def status(self) -> ClockStatus:
        return self.state.status

    @property
    def due_at(self) -> datetime | None:
        return self.state.due_at

    @property
    def warn_at(self) -> datetime | None:
        return self.state.warn_at
