"""A department's open case work, for its board: cases dispatched to it, countersign tasks, and
the steps its functions own (a return or an extension under the dispatcher's review, a dispatch).

Set-based: one query for the cases (the steps that can await this department are worked out from
the shipped definitions first, so the cases table is filtered in SQL by definition and step), one
for the tasks, one each for their clocks, the departments they came from and overdue flags.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select

from service_hub.auth.scope import DepartmentScope
from service_hub.casework import case_engine
from service_hub.casework.assignment import _visible_department
from service_hub.casework.models import CaseRecord, CaseTask, SlaClock
from service_hub.core.extensions import db
from service_hub.org.models import Agent, Department
from service_hub.org.tree import DepartmentTree
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import Ticket, TicketInvitation
from workflows import engine
from workflows.definitions import WorkflowDefinition

CASE_DEPARTMENT = "case_department"
DISPATCHED_REASON = "dispatched the case"  # case_engine._move's invitation of the dispatching department
TASK_STATES = {"open": ("open",), "closed": ("done", "returned", "cancelled"), "all": ("open", "done", "returned", "cancelled")}


def _awaiting_steps(functions: set[str]) -> tuple[list[tuple[str, int, list[str]]], list[tuple[str, int, list[str]]]]:
    """Per definition version: the steps held by the case's department (after intake), and the steps
    a function of this department owns. Countersign steps are listed through their tasks instead."""
    held, owned = [], []
    for definition in case_engine.registry():
        mine, by_function = [], []
        for step in definition.steps.values():
            if step.owner is None or step.tasks is not None or step.id == definition.initial_step:
                continue
            if step.owner.functions == {CASE_DEPARTMENT}:
                mine.append(step.id)
            elif step.owner.functions & functions:
                by_function.append(step.id)
        if mine:
            held.append((definition.key, definition.version, mine))
        if by_function:
            owned.append((definition.key, definition.version, by_function))
    return held, owned


def _steps_clause(steps: list[tuple[str, int, list[str]]]) -> ColumnElement[bool]:
    if not steps:
        return false()
    return or_(*(and_(CaseRecord.definition_key == k, CaseRecord.definition_version == v, CaseRecord.step.in_(ids)) for k, v, ids in steps))


def _case_rows(scope: DepartmentScope, department_id: int, tree: DepartmentTree, limit: int) -> list[Any]:
    node = tree.nodes[department_id]
    held, owned = _awaiting_steps(set(node.functions))
    centre = tree.centre_of(department_id) or department_id
    where = or_(
        and_(Ticket.department_id == department_id, _steps_clause(held)),
        and_(Ticket.department_id.in_(tree.subtree(centre)), _steps_clause(owned)),
    )
    query = (
        select(CaseRecord, Ticket)
        .join(Ticket, Ticket.id == CaseRecord.ticket_id)
        .where(CaseRecord.finished.is_(False), where, visible_tickets_clause(scope))
        .order_by(CaseRecord.updated_at, CaseRecord.ticket_id)
        .limit(limit)
    )
    return list(db.session.execute(query).all())


def _task_rows(scope: DepartmentScope, department_id: int, state: str, limit: int) -> list[Any]:
    query = (
        select(CaseTask, CaseRecord, Ticket)
        .join(Ticket, Ticket.id == CaseTask.ticket_id)
        .join(CaseRecord, CaseRecord.ticket_id == CaseTask.ticket_id)
        .where(CaseTask.department_id == department_id, CaseTask.status.in_(TASK_STATES[state]), visible_tickets_clause(scope))
        .order_by(CaseTask.opened_at, CaseTask.id)
        .limit(limit)
    )
    return list(db.session.execute(query).all())


def _clocks(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], SlaClock]:
    wanted = set(keys)
    if not wanted:
        return {}
    rows = db.session.scalars(select(SlaClock).where(SlaClock.ticket_id.in_({t for t, _ in wanted})))
    return {(c.ticket_id, c.kind): c for c in rows if (c.ticket_id, c.kind) in wanted}


def _dispatched_from(ticket_ids: set[int]) -> dict[int, int]:
    """The department that last dispatched each ticket (its standing invitation says so)."""
    if not ticket_ids:
        return {}
    latest = (
        select(TicketInvitation.ticket_id, func.max(TicketInvitation.id).label("id"))
        .where(TicketInvitation.ticket_id.in_(ticket_ids), TicketInvitation.reason == DISPATCHED_REASON)
        .group_by(TicketInvitation.ticket_id)
        .subquery()
    )
    rows = db.session.execute(
        select(TicketInvitation.ticket_id, TicketInvitation.department_id).join(latest, latest.c.id == TicketInvitation.id)
    )
    return {r.ticket_id: r.department_id for r in rows}


def _overdue(ticket_ids: set[int]) -> set[int]:
    if not ticket_ids:
        return set()
    query = select(SlaClock.ticket_id).where(
        SlaClock.ticket_id.in_(ticket_ids), SlaClock.breached_at.is_not(None), SlaClock.status == "running"
    )
    return set(db.session.scalars(query.distinct()))


def department_tasks(agent: Agent, scope: DepartmentScope, department_id: int, state: str = "open", limit: int = 100) -> dict[str, Any]:
    """The board's items, the nearest due first, each with the case actions the caller may take now."""
    _visible_department(scope, department_id)
    tree = DepartmentTree.load()
    cases = _case_rows(scope, department_id, tree, limit) if state in ("open", "all") else []
    tasks = _task_rows(scope, department_id, state, limit)

    items: list[dict[str, Any]] = []
    clock_keys: list[tuple[int, str]] = []
    for record, ticket in cases:
        definition = case_engine.registry().get(record.definition_key, record.definition_version)
        step = definition.steps[record.step]
        items.append(_item(ticket, record, definition, step.id, None))
        if step.sla:
            clock_keys.append((ticket.id, step.sla))
    for task, record, ticket in tasks:
        definition = case_engine.registry().get(record.definition_key, record.definition_version)
        items.append(_item(ticket, record, definition, record.step, task))
        spec = definition.steps[record.step].tasks if record.step in definition.steps else None
        clock = spec.clock if spec is not None else None
        if clock:
            clock_keys.append((ticket.id, engine.clock_key(clock, task.task_key)))
            items[-1]["_clock"] = engine.clock_key(clock, task.task_key)

    clocks = _clocks(clock_keys)
    ticket_ids = {i["ticket_id"] for i in items}
    dispatched = _dispatched_from({i["ticket_id"] for i in items if i["kind"] == "case"})
    overdue = _overdue(ticket_ids)
    names = dict(db.session.execute(select(Department.id, Department.name)).all()) if items else {}

    for item in items:
        ticket, record, definition = item.pop("_ticket"), item.pop("_record"), item.pop("_definition")
        clock_kind = item.pop("_clock", None) or (definition.steps[record.step].sla if item["kind"] == "case" else None)
        clock = clocks.get((ticket.id, clock_kind)) if clock_kind else None
        item["clock"] = (
            None if clock is None else {"kind": clock.kind, "status": clock.status, "started_at": clock.started_at, "due_at": clock.due_at}
        )
        # Dispatched to us: from the dispatcher; a task or a step our function owns: from the case's department.
        origin = dispatched.get(ticket.id) if item["kind"] == "case" and ticket.department_id == department_id else ticket.department_id
        item["from_department"] = None if origin is None or origin == department_id else {"id": origin, "name": names.get(origin, "")}
        item["actions"] = _actions(agent, ticket, record, definition, tree, ticket.id in overdue, item.get("task_key"))
    items.sort(key=lambda i: (_due(i) is None, _due(i) or datetime.max, i["since"], i["ticket_id"]))
    return {"department_id": department_id, "items": items[:limit]}


def _due(item: dict[str, Any]) -> datetime | None:
    clock = item["clock"]
    return clock["due_at"] if clock and clock["status"] == "running" else None


def _item(ticket: Ticket, record: CaseRecord, definition: WorkflowDefinition, step_id: str, task: CaseTask | None) -> dict[str, Any]:
    step = definition.steps.get(step_id)
    return {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "priority": ticket.priority.name.lower(),
        "version": ticket.version,
        "department_id": ticket.department_id,
        "kind": "countersign" if task is not None else "case",
        "task_key": task.task_key if task is not None else None,
        "lead": task.lead if task is not None else None,
        "state": task.status if task is not None else ("suspended" if record.state.get("suspended_from") else "open"),
        "workflow_name": definition.name,
        "step": step_id,
        "step_name": (step.name if step else None) or step_id,
        "since": task.opened_at if task is not None else record.updated_at,
        "_ticket": ticket,
        "_record": record,
        "_definition": definition,
    }


def _actions(
    agent: Agent,
    ticket: Ticket,
    record: CaseRecord,
    definition: WorkflowDefinition,
    tree: DepartmentTree,
    overdue: bool,
    task_key: str | None,
) -> list[dict[str, Any]]:
    actor = case_engine.actor_for(agent, ticket, tree)
    options = engine.available_actions(
        definition, engine.CaseState.from_dict(record.state), actor, case_engine.ticket_fields(ticket, record, overdue)
    )
    out = []
    for option in options:
        if option.needs_task and (task_key is None or task_key not in option.task_ids):
            continue  # another department's task of the same case
        if task_key is not None and not option.needs_task:
            continue  # the card of a task offers the task's actions; the case's own are on its card
        out.append(
            {"action": option.action, "name": option.name, "required_fields": list(option.required_fields), "needs_task": option.needs_task}
        )
    return out
