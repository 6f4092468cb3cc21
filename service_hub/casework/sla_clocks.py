"""SLA clocks of a ticket: start at intake, pause while waiting, stop on reply or solve.

The arithmetic is workflows.sla's; this module chooses the policy, stores each clock's state and
history, and keeps the ticket's due times (the inbox and the breach scan read those) in step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from sqlalchemy import select

from service_hub.casework.calendars import calendar_for
from service_hub.casework.models import SlaClock, SlaClockEvent, SlaPolicyRow
from service_hub.core.extensions import db
from service_hub.tickets.models import Ticket, TicketStatus
from workflows.sla import (
    ClockKind,
    ClockState,
    ClockStatus,
    SlaPolicy,
    SlaTargets,
    Step,
    choose_policy,
    extend_clock,
    pause_clock,
    resume_clock,
    start_clock,
    stop_clock,
)

PAUSING_STATUSES = (TicketStatus.PENDING, TicketStatus.ON_HOLD)
FINISHED_STATUSES = (TicketStatus.SOLVED, TicketStatus.CLOSED)


F = TypeVar("F", bound=Callable[..., Any])


def _one_ticket_update(func: F) -> F:
    """The clock queries must not flush the ticket half-changed: each flush of a ticket bumps its
    optimistic-lock version, and one operation must move it by exactly one."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with db.session.no_autoflush:
            return func(*args, **kwargs)

    return cast(F, wrapper)


def _policies() -> list[tuple[SlaPolicy, SlaPolicyRow]]:
    rows = db.session.scalars(select(SlaPolicyRow).where(SlaPolicyRow.is_active).order_by(SlaPolicyRow.position, SlaPolicyRow.id)).all()
    return [
        (
            SlaPolicy(
                name=row.name,
                targets=SlaTargets(row.first_response_seconds, row.next_response_seconds, row.resolution_seconds),
                tier=row.tier,
                priority=row.priority,
                channel=row.channel,
                category=row.category,
                calendar=row.calendar_key,
                warning_share=row.warning_share,
            ),
            row,
        )
        for row in rows
    ]


def policy_for(ticket: Ticket) -> SlaPolicyRow | None:
    """The most specific active policy for the ticket's tier, priority, channel and category."""
    category = ticket.custom_fields.get("category") if isinstance(ticket.custom_fields, dict) else None
    return matching_policy(ticket.tier.value, ticket.priority.name.lower(), ticket.channel.value, category)


def matching_policy(tier: str | None, priority: str | None, channel: str | None, category: str | None) -> SlaPolicyRow | None:
    """The active policy choose_policy picks for these criteria; the SLA admin's preview asks the same."""
    pairs = _policies()
    chosen = choose_policy([p for p, _ in pairs], tier=tier, priority=priority, channel=channel, category=category)
    return next((row for p, row in pairs if p is chosen), None)


def _state(clock: SlaClock) -> ClockState:
    return ClockState(
        status=ClockStatus(clock.status),
        target_seconds=clock.target_seconds,
        warning_share=clock.warning_share,
        business_seconds_used=clock.business_seconds_used,
        started_at=clock.started_at,
        running_since=clock.running_since,
        paused_at=clock.paused_at,
        due_at=clock.due_at,
        warn_at=clock.warn_at,
        stopped_at=clock.stopped_at,
    )


def _store(clock: SlaClock, step: Step) -> None:
    """Write the clock's new state and append its history entry."""
    s = step.state
    clock.status = s.status.value
    clock.target_seconds, clock.warning_share, clock.business_seconds_used = s.target_seconds, s.warning_share, s.business_seconds_used
    clock.started_at, clock.running_since, clock.paused_at = s.started_at, s.running_since, s.paused_at
    clock.due_at, clock.warn_at, clock.stopped_at = s.due_at, s.warn_at, s.stopped_at
    # No flush here: a flush would write the ticket half-changed and bump its version twice.
    db.session.add(clock)
    e = step.event
    db.session.add(
        SlaClockEvent(
            clock=clock, kind=e.kind.value, at=e.at, business_used=e.business_used, due_at=e.due_at, target_seconds=e.target_seconds
        )
    )


def _clocks(ticket: Ticket) -> dict[str, SlaClock]:
    """The ticket's clocks, including those added in this transaction and not yet flushed."""
    stored = {c.kind: c for c in db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id))}
    pending = {c.kind: c for c in db.session.new if isinstance(c, SlaClock) and c.ticket_id == ticket.id}
    return stored | pending


def _start(ticket: Ticket, kind: ClockKind, policy: SlaPolicyRow, now: datetime, existing: SlaClock | None) -> None:
    target = SlaTargets(policy.first_response_seconds, policy.next_response_seconds, policy.resolution_seconds).for_clock(kind)
    if target:
        start_named(ticket, kind.value, target, policy.calendar_key, now, existing=existing, policy=policy)


def start_named(
    ticket: Ticket,
    name: str,
    target_seconds: float,
    calendar_key: str,
    now: datetime,
    *,
    existing: SlaClock | None = None,
    policy: SlaPolicyRow | None = None,
) -> SlaClock:
    """Start (or restart) one clock of the ticket; a workflow names its own clocks (acknowledge, task@...)."""
    clock = existing or _clocks(ticket).get(name) or SlaClock(ticket_id=ticket.id, kind=name)
    clock.policy_id = policy.id if policy else clock.policy_id
    clock.calendar_key = calendar_key
    clock.supervise_after_seconds = policy.supervise_after_seconds if policy else 3600
    # A restarted clock (reopen, a new customer message) climbs the escalation ladder afresh.
    clock.warned_at = clock.breached_at = clock.supervise_at = clock.supervised_at = None
    warning_share = policy.warning_share if policy else 0.75
    _store(clock, start_clock(now, target_seconds, calendar_for(calendar_key, now), warning_share))
    refresh_due_times(ticket, _clocks(ticket))
    return clock


def refresh_due_times(ticket: Ticket, clocks: dict[str, SlaClock]) -> None:
    """Copy running deadlines onto the ticket: the inbox sorts and the breach scan filters on them."""

    def due(name: str) -> datetime | None:
        clock = clocks.get(name)
        return clock.due_at if clock is not None and clock.status == ClockStatus.RUNNING else None

    ticket.first_response_due_at = due(ClockKind.FIRST_RESPONSE.value)
    ticket.resolution_due_at = due(ClockKind.RESOLUTION.value)
    running = [d for d in (due(name) for name in clocks) if d is not None]
    ticket.next_due_at = min(running) if running else None


@_one_ticket_update
def start_ticket_clocks(ticket: Ticket, now: datetime) -> SlaPolicyRow | None:
    policy = policy_for(ticket)
    if policy is not None:
        for kind in (ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION):
            _start(ticket, kind, policy, now, None)
    refresh_due_times(ticket, _clocks(ticket))
    return policy


def _apply(ticket: Ticket, now: datetime, names: tuple[str, ...] | None, action: str) -> None:
    """Pause, resume or stop the named clocks (None: every clock of the ticket)."""
    clocks = _clocks(ticket)
    for name, clock in clocks.items():
        if names is not None and name not in names:
            continue
        state = _state(clock)
        calendar = calendar_for(clock.calendar_key, now)
        if action == "pause" and state.status == ClockStatus.RUNNING:
            _store(clock, pause_clock(state, now, calendar))
        elif action == "resume" and state.status == ClockStatus.PAUSED:
            _store(clock, resume_clock(state, now, calendar))
        elif action == "stop" and not state.is_stopped:
            _store(clock, stop_clock(state, now, calendar))
    refresh_due_times(ticket, clocks)


@_one_ticket_update
def pause_named(ticket: Ticket, names: tuple[str, ...], now: datetime) -> None:
    _apply(ticket, now, names, "pause")


@_one_ticket_update
def resume_named(ticket: Ticket, names: tuple[str, ...], now: datetime) -> None:
    _apply(ticket, now, names, "resume")


@_one_ticket_update
def stop_named(ticket: Ticket, names: tuple[str, ...], now: datetime) -> None:
    _apply(ticket, now, names, "stop")


@_one_ticket_update
def extend_named(ticket: Ticket, name: str, now: datetime, *, until: datetime | None = None, by_seconds: float | None = None) -> bool:
    """An approved extension (延期): the clock's target grows; False when there is no such clock running."""
    clock = _clocks(ticket).get(name)
    if clock is None or ClockStatus(clock.status) not in (ClockStatus.RUNNING, ClockStatus.PAUSED):
        return False
    calendar = calendar_for(clock.calendar_key, now)
    state = _state(clock)
    if until is not None:
        # The new deadline as a target: business time from the start to `until`, plus pauses banked.
        new_target = (
            state.business_seconds_used + calendar.between(state.running_since or now, until)
            if state.running_since
            else state.target_seconds
        )
        _store(clock, extend_clock(state, now, calendar, new_target=max(new_target, state.target_seconds)))
    elif by_seconds:
        _store(clock, extend_clock(state, now, calendar, by_seconds=by_seconds))
    refresh_due_times(ticket, _clocks(ticket))
    return True


@_one_ticket_update
def on_status_change(ticket: Ticket, old: TicketStatus, new: TicketStatus, now: datetime) -> None:
    """Pending and on hold pause every clock; solving stops them; reopening restarts resolution."""
    if new in PAUSING_STATUSES:
        _apply(ticket, now, None, "pause")
    elif new in FINISHED_STATUSES:
        _apply(ticket, now, None, "stop")
    elif old in PAUSING_STATUSES:
        _apply(ticket, now, None, "resume")
    elif old in FINISHED_STATUSES:
        policy = policy_for(ticket)
        if policy is not None:
            _start(ticket, ClockKind.RESOLUTION, policy, now, _clocks(ticket).get(ClockKind.RESOLUTION.value))
        refresh_due_times(ticket, _clocks(ticket))


@_one_ticket_update
def on_agent_reply(ticket: Ticket, now: datetime) -> None:
    """A reply to the customer meets the first-response and next-response clocks."""
    _apply(ticket, now, (ClockKind.FIRST_RESPONSE.value, ClockKind.NEXT_RESPONSE.value), "stop")


@_one_ticket_update
def on_customer_message(ticket: Ticket, now: datetime) -> None:
    """A customer writing again starts the next-response clock (channels call this)."""
    if ticket.status in FINISHED_STATUSES:
        return
    policy = policy_for(ticket)
    if policy is not None:
        _start(ticket, ClockKind.NEXT_RESPONSE, policy, now, _clocks(ticket).get(ClockKind.NEXT_RESPONSE.value))
    refresh_due_times(ticket, _clocks(ticket))
