"""Cases in motion: start a ticket's workflow, list the actions a user may take, apply one.

workflows.engine decides; this module resolves who holds which function for the case, executes
the engine's effects (ticket status, countersign tasks and their departments, SLA clocks,
notifications) and records the step in the audit trail and the outbox, in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from service_hub.auth.principal import Principal
from service_hub.auth.scope import scope_of
from service_hub.casework import sla_clocks
from service_hub.casework.models import CaseRecord, CaseTask, SlaClock
from service_hub.core.errors import Conflict, Forbidden, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.org.models import Agent, Department, Role
from service_hub.org.tree import DepartmentTree
from service_hub.tickets.audit import audit
from service_hub.tickets.models import Ticket, TicketInvitation, TicketStatus
from workflows import engine
from workflows.definition_loader import shipped_registry
from workflows.definitions import DefinitionRegistry, Duration, WorkflowDefinition
from workflows.engine import ActionOption, ActionRefused, CaseState, Outcome
from workflows.sla import ClockKind

POLICY_CLOCKS = {k.value for k in ClockKind}  # clocks whose target the SLA policy supplies
BUSINESS_CALENDAR, WALL_CALENDAR = "office-cn", "24x7"
# Inputs that move the case rather than being stored as fields.
DEPARTMENT_INPUT = "department"


def registry() -> DefinitionRegistry:
    """The shipped definitions (loaded once); a running case looks up its own version here."""
    return shipped_registry()


def _definition(record: CaseRecord) -> WorkflowDefinition:
    return registry().get(record.definition_key, record.definition_version)


def _state(record: CaseRecord) -> CaseState:
    return CaseState.from_dict(record.state)


def department_for_function(function: str, ticket: Ticket, tree: DepartmentTree | None = None) -> int | None:
    """The department of the ticket's centre that has this function."""
    tree = tree or DepartmentTree.load()
    centre = tree.centre_of(ticket.department_id)
    return tree.with_function(centre, function) if centre is not None else None


def actor_for(agent: Agent, ticket: Ticket, tree: DepartmentTree | None = None) -> engine.Actor:
    """The functions this agent holds for this case: case_department where it sits, plus what its
    departments do; supervisors act for every department of their centre, admins for all."""
    tree = tree or DepartmentTree.load()
    scope = scope_of(agent)
    functions: set[str] = set()
    if scope.all_departments or ticket.department_id in scope.visible_department_ids:
        functions.add("case_department")
    reach = (
        tree.ids() if scope.all_departments else (scope.visible_department_ids if agent.role == Role.SUPERVISOR else agent.department_ids)
    )
    for department_id in reach:
        functions |= tree.functions_of(department_id)
    return engine.Actor(agent_ref=f"agent:{agent.id}", role=agent.role.value, functions=frozenset(functions))


def ticket_fields(ticket: Ticket, record: CaseRecord, overdue: bool | None = None) -> dict[str, Any]:
    """What guards and required fields see: the ticket's own fields, custom fields, accepted inputs.
    overdue: when the caller already knows (a board reads it for many tickets in one query)."""
    if overdue is None:
        overdue = (
            db.session.scalar(
                select(SlaClock.id)
                .where(SlaClock.ticket_id == ticket.id, SlaClock.breached_at.is_not(None), SlaClock.status == "running")
                .limit(1)
            )
            is not None
        )
    return {
        **(ticket.custom_fields or {}),
        **(record.fields or {}),
        "status": ticket.status.value,
        "priority": ticket.priority.name.lower(),
        "tier": ticket.tier.value,
        "channel": ticket.channel.value,
        "overdue": overdue,
    }


def _seconds(target: Duration) -> tuple[float, str]:
    if target.business:
        return target.seconds(8 * 3600), BUSINESS_CALENDAR  # office-cn's working day
    return target.seconds(), WALL_CALENDAR


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def _execute(
    principal: Principal | None,
    ticket: Ticket,
    record: CaseRecord,
    definition: WorkflowDefinition,
    outcome: Outcome,
    inputs: dict[str, Any],
    now: datetime,
) -> None:
    state = outcome.state
    tree = DepartmentTree.load()
    for effect in outcome.effects:
        if isinstance(effect, engine.StepEntered):
            status = definition.step(effect.step).status
            if status and status != ticket.status.value:
                ticket.set_status(TicketStatus(status), now)
        elif isinstance(effect, engine.TaskOpened):
            department_id = department_for_function(effect.function, ticket, tree)
            db.session.add(
                CaseTask(
                    ticket_id=ticket.id,
                    task_key=effect.task_id,
                    function=effect.function,
                    department_id=department_id,
                    lead=effect.lead,
                    opened_at=now,
                )
            )
            if department_id is not None:
                state = engine.with_task_department(state, effect.task_id, f"department:{department_id}")
                _invite(ticket, department_id, f"countersign task {effect.task_id}", principal)
        elif isinstance(effect, engine.TaskClosed):
            task = db.session.scalars(select(CaseTask).where(CaseTask.ticket_id == ticket.id, CaseTask.task_key == effect.task_id)).one()
            task.status, task.closed_at = effect.outcome, now
        elif isinstance(effect, engine.ClockStarted):
            _start_clock(ticket, effect, now)
        elif isinstance(effect, engine.ClockPaused):
            sla_clocks.pause_named(ticket, (engine.clock_key(effect.clock, effect.task_id),), now)
        elif isinstance(effect, engine.ClockResumed):
            sla_clocks.resume_named(ticket, (engine.clock_key(effect.clock, effect.task_id),), now)
        elif isinstance(effect, engine.ClockStopped):
            sla_clocks.stop_named(ticket, (engine.clock_key(effect.clock, effect.task_id),), now)
        elif isinstance(effect, engine.TargetExtended):
            by = inputs.get(str(effect.by)) if effect.by else None
            sla_clocks.extend_named(
                ticket,
                effect.clock,
                now,
                until=_parse_time(inputs.get(str(effect.until)) if effect.until else None),
                by_seconds=float(by) * 3600 if isinstance(by, (int, float)) else None,
            )
        elif isinstance(effect, engine.CaseFinished):
            record.finished = True
        elif isinstance(effect, engine.Notify):
            target = ticket.department_id if effect.target == "case_department" else department_for_function(effect.target, ticket, tree)
            rooms = [f"ticket:{ticket.id}"] + ([f"department:{target}"] if target else [])
            record_event(
                "case.notify",
                {"ticket_id": ticket.id, "number": ticket.number, "kind": effect.kind, "target": effect.target, "task_id": effect.task_id},
                rooms,
            )
    record.state = state.to_dict()
    record.step = state.step


def _start_clock(ticket: Ticket, effect: engine.ClockStarted, now: datetime) -> None:
    name = engine.clock_key(effect.clock, effect.task_id)
    if effect.target is not None:
        seconds, calendar = _seconds(effect.target)
        sla_clocks.start_named(ticket, name, seconds, calendar, now)
        return
    if effect.clock in POLICY_CLOCKS:
        policy = sla_clocks.policy_for(ticket)
        target = policy and getattr(policy, f"{effect.clock}_seconds")
        if policy is not None and target:
            sla_clocks.start_named(ticket, name, target, policy.calendar_key, now, policy=policy)


def _invite(ticket: Ticket, department_id: int, reason: str, principal: Principal | None) -> None:
    if department_id == ticket.department_id:
        return
    standing = db.session.scalar(
        select(TicketInvitation.id).where(
            TicketInvitation.ticket_id == ticket.id, TicketInvitation.department_id == department_id, TicketInvitation.revoked_at.is_(None)
        )
    )
    if standing is None:
        db.session.add(
            TicketInvitation(
                ticket_id=ticket.id, department_id=department_id, reason=reason, invited_by_id=principal.agent.id if principal else None
            )
        )


def start_case(principal: Principal | None, ticket: Ticket, now: datetime) -> CaseRecord:
    """Start the workflow named in custom_fields["workflow"], else the best match for the ticket."""
    key = (ticket.custom_fields or {}).get("workflow")
    fields = {
        **(ticket.custom_fields or {}),
        "priority": ticket.priority.name.lower(),
        "tier": ticket.tier.value,
        "channel": ticket.channel.value,
    }
    named = isinstance(key, str) and key in registry()
    definition = registry().get(key) if named else registry().select(fields)
    outcome = engine.start(definition)
    record = CaseRecord(
        ticket_id=ticket.id,
        definition_key=definition.key,
        definition_version=definition.version,
        step=outcome.state.step,
        state=outcome.state.to_dict(),
        fields={},
        started_at=now,
    )
    db.session.add(record)
    with db.session.no_autoflush:
        _execute(principal, ticket, record, definition, outcome, {}, now)
    return record


def get_case(ticket: Ticket) -> CaseRecord:
    record = db.session.get(CaseRecord, ticket.id)
    if record is None:
        raise NotFound(f"Ticket #{ticket.number} has no workflow.")
    return record


def available(agent: Agent, ticket: Ticket) -> tuple[CaseRecord, list[ActionOption]]:
    record = get_case(ticket)
    return record, engine.available_actions(_definition(record), _state(record), actor_for(agent, ticket), ticket_fields(ticket, record))


def perform(principal: Principal, ticket: Ticket, action: str, inputs: dict[str, Any], task_id: str | None, version: int) -> CaseRecord:
    if version != ticket.version:
        raise Conflict(
            f"Ticket #{ticket.number} was changed by someone else (version {ticket.version}, you sent {version}); reload and try again."
        )
    record = get_case(ticket)
    definition = _definition(record)
    before = record.step
    now = utcnow()
    try:
        outcome = engine.apply(
            definition, _state(record), action, actor_for(principal.agent, ticket), ticket_fields(ticket, record), inputs, task_id
        )
    except ActionRefused as refused:
        if refused.code == "forbidden":
            raise Forbidden(refused.message) from None
        raise ValidationProblem(
            refused.message, errors=dict(refused.field_errors) or None, code=f"workflow-{refused.code.replace('_', '-')}"
        ) from None
    left_department = ticket.department_id
    with db.session.no_autoflush:
        stored = {k: v for k, v in inputs.items() if k != DEPARTMENT_INPUT}
        record.fields = {**(record.fields or {}), **stored}
        if DEPARTMENT_INPUT in inputs:
            _move(principal, ticket, inputs[DEPARTMENT_INPUT])
        _execute(principal, ticket, record, definition, outcome, inputs, now)
        ticket.updated_at = now
    audit(
        principal,
        f"workflow.{action}",
        ticket_id=ticket.id,
        before={"step": before},
        after={"step": record.step, "task_id": outcome.task_id, "inputs": stored},
    )
    record_event(
        "case.step",
        {"ticket_id": ticket.id, "action": action, "from": before, "to": record.step, "task_id": outcome.task_id},
        [f"ticket:{ticket.id}", *_board_rooms(ticket, record, definition, left_department)],
    )
    db.session.commit()
    return record


def _board_rooms(ticket: Ticket, record: CaseRecord, definition: WorkflowDefinition, left_department: int) -> list[str]:
    """The departments whose boards a step changes: where the case sits and where it came from, the
    departments of its countersign tasks, and those whose function owns the step now (a dispatcher)."""
    ids = {ticket.department_id, left_department}
    ids |= {int(t.department_ref.partition(":")[2]) for t in _state(record).tasks.values() if t.department_ref}
    owner = definition.step(record.step).owner
    if owner is not None:
        tree = DepartmentTree.load()
        ids |= {d for f in owner.functions - {"case_department"} if (d := department_for_function(f, ticket, tree)) is not None}
    return [f"department:{d}" for d in sorted(ids)]


def _move(principal: Principal, ticket: Ticket, raw: object) -> None:
    """派单: the case goes to another department; the dispatcher's department keeps watching."""
    department = db.session.get(Department, int(raw)) if isinstance(raw, (int, str)) and str(raw).isdigit() else None
    if department is None or not department.is_active:
        raise ValidationProblem("No such active department to dispatch to.", errors={DEPARTMENT_INPUT: ["No such active department."]})
    if department.id != ticket.department_id:
        previous, ticket.department_id, ticket.assignee_id = ticket.department_id, department.id, None
        _invite(ticket, previous, "dispatched the case", principal)
