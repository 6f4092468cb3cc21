"""Assignment within department queues: auto-assign at intake, fill queues when someone is free, transfer.

The choice is workflows.assignment's (online only, capacity, skills, language, tier matching,
round robin or least loaded) and the order workflows.queue_order's; queue_reads reads the
candidates and the waiting tickets. These functions change tickets and write the audit trail and
the outbox events; the caller commits (tickets.operations) unless the function says it does.

A ticket is claimed by one conditional UPDATE: only while it is still unassigned and active, and
only while the agent's open load (counted in the same statement) is below their capacity. Two
processes filling the same queue at once therefore never assign one ticket twice: the loser's
UPDATE matches no row and it moves on. (Two claims for the same agent committing at the same
instant can still both pass the count; there is no lock on the agent, so intake never queues
behind it, and the overshoot is one ticket at most per concurrent writer.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key

from service_hub.auth.principal import Principal
from service_hub.auth.scope import DepartmentScope
from service_hub.casework.models import QueueSettings
from service_hub.casework.queue_reads import (
    QUEUE_SCAN_LIMIT,
    QueueConfig,
    WaitingTicket,
    candidate_pool,
    config_of,
    count_waiting,
    open_loads,
    queue_configs,
    required_skills,
    waiting_tickets,
)
from service_hub.core.errors import Conflict, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.org.models import Agent, Department, Presence
from service_hub.org.tree import DepartmentTree
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.audit import audit
from service_hub.tickets.models import ACTIVE_STATUSES, Ticket, TicketStatus
from workflows.assignment import AgentCandidate, AssignmentRequest, SeniorPolicy, Strategy, pick_agent, why_ineligible
from workflows.assignment import Presence as CandidatePresence
from workflows.queue_order import Tier

log = logging.getLogger(__name__)


# Claiming


def _claim(ticket: WaitingTicket, agent: AgentCandidate, reason: str, now: datetime) -> bool:
    """Assign one waiting ticket if it still waits and the agent still has room; False otherwise."""
    tickets = Ticket.__table__
    held = tickets.alias("held")
    load = (
        select(func.count())
        .select_from(held)
        .where(held.c.assignee_id == agent.agent_id, held.c.status.in_(ACTIVE_STATUSES))
        .scalar_subquery()
    )
    claimed = db.session.execute(
        update(tickets)
        .where(tickets.c.id == ticket.id, tickets.c.assignee_id.is_(None), tickets.c.status.in_(ACTIVE_STATUSES), load < agent.capacity)
        .values(
            assignee_id=agent.agent_id,
            status=case((tickets.c.status == TicketStatus.NEW, literal(TicketStatus.OPEN, tickets.c.status.type)), else_=tickets.c.status),
            version=tickets.c.version + 1,
            updated_at=now,
        )
        .returning(tickets.c.status, tickets.c.version)
    ).first()
    if claimed is None:
        return False
    # A Ticket object of this row in the session (the one being created or updated) is now stale.
    loaded = db.session.identity_map.get(identity_key(Ticket, ticket.id))
    if loaded is not None:
        db.session.expire(loaded, ["assignee_id", "assignee", "status", "version", "updated_at"])
    before_status = ticket.row.status.value
    audit(
        None,
        "ticket.assigned",
        ticket_id=ticket.id,
        before={"assignee_id": None, "status": before_status},
        after={"assignee_id": agent.agent_id, "status": claimed.status.value, "reason": reason},
    )
    rooms = [f"ticket:{ticket.id}", f"department:{ticket.department_id}", f"agent:{agent.agent_id}"]
    payload = {
        "ticket_id": ticket.id,
        "number": ticket.row.number,
        "assignee_id": agent.agent_id,
        "department_id": ticket.department_id,
        "status": claimed.status.value,
        "reason": reason,
        "version": claimed.version,
    }
    record_event("ticket.assigned", payload, rooms)
    return True


def _store_cursors(configs: Mapping[int, QueueConfig], cursors: Mapping[int, int | None]) -> None:
    """Move each round-robin cursor only if nobody moved it since we read it (conditional UPDATE)."""
    for department_id, cursor in cursors.items():
        config = configs[department_id]
        if not config.stored or config.strategy is not Strategy.ROUND_ROBIN or cursor == config.cursor:
            continue
        read = QueueSettings.round_robin_cursor
        db.session.execute(
            update(QueueSettings)
            .where(QueueSettings.department_id == department_id, read.is_(None) if config.cursor is None else read == config.cursor)
            .values(round_robin_cursor=cursor)
            .execution_options(synchronize_session=False)
        )


# Filling queues


def fill_queues(department_ids: Iterable[int], now: datetime | None = None, *, declined: Mapping[int, int] | None = None) -> dict[int, int]:
    """Give waiting tickets of these queues to online agents with room; {ticket id: agent id} assigned.

    All the queues' waiting tickets are taken together, best queue score first, so an agent who
    serves a group and the department above it takes the better ticket of the two. Each ticket
    gets pick_agent's choice among the agents serving its own queue, and each assignment counts
    against that agent for the rest of the pass (workflows.assignment.plan_assignments does the
    same for a single pool). A ticket nobody may take waits without blocking those behind it.
    ``declined`` maps a ticket to the agent who just gave it up: that pass does not hand it back.
    """
    now = now or utcnow()
    configs = queue_configs(department_ids)
    queues = {d for d, config in configs.items() if config.auto_assign}
    if not queues:
        return {}
    pool = candidate_pool(queues, DepartmentTree.load())
    agents = dict(pool.agents)
    if not any(agent.free_slots for agent in agents.values()):
        return {}
    cursors: dict[int, int | None] = {d: configs[d].cursor for d in queues}
    assigned: dict[int, int] = {}
    for ticket in waiting_tickets(queues, now):
        if not any(agent.free_slots for agent in agents.values()):
            break
        config = configs[ticket.department_id]
        candidates = pool.for_queue(ticket.department_id, agents)
        if declined and ticket.id in declined:
            candidates = [c for c in candidates if c.agent_id != declined[ticket.id]]
        decision = pick_agent(ticket.request(config.strategy), candidates, cursors[ticket.department_id], config.tier_matching)
        if decision.agent_id is None:
            continue  # waits, quietly: the next free agent tries again
        agent = agents[decision.agent_id]
        if _claim(ticket, agent, decision.reason, now):
            agents[agent.agent_id] = replace(agent, open_load=agent.open_load + 1, last_assigned_at=now)
            cursors[ticket.department_id] = decision.cursor
            assigned[ticket.id] = agent.agent_id
        else:
            # Taken by another process, or the agent filled up meanwhile: re-count them and go on.
            agents[agent.agent_id] = replace(agent, open_load=open_loads([agent.agent_id]).get(agent.agent_id, 0))
    _store_cursors(configs, cursors)
    if assigned:
        log.info("filled queues %s: %s", sorted(queues), assigned)
    return assigned


def auto_assign(ticket: Ticket, now: datetime | None = None) -> int | None:
    """Assign a ticket just opened (or moved) in its department's queue, if the queue auto-assigns.

    The ticket joins the queue like any other: when tickets already wait, the best of them go
    first. Returns the assignee, or None while the ticket waits.
    """
    if ticket.assignee_id is not None or ticket.status not in ACTIVE_STATUSES:
        return ticket.assignee_id
    db.session.flush()
    return fill_queues([ticket.department_id], now).get(ticket.id)


def refill_after_update(ticket: Ticket, *, previous_assignee_id: int | None, previous_status: str) -> dict[int, int]:
    """After a ticket changed: the previous assignee's freed slot and the ticket itself, if it now waits, go to the queues.

    The agent who just gave the ticket up is not handed it straight back in this pass.
    """
    queues: set[int] = set()
    declined: dict[int, int] = {}
    if (
        previous_assignee_id is not None
        and TicketStatus(previous_status) in ACTIVE_STATUSES
        and (ticket.assignee_id != previous_assignee_id or ticket.status not in ACTIVE_STATUSES)
    ):
        queues |= _queues_served_by(previous_assignee_id)
        declined[ticket.id] = previous_assignee_id
    if ticket.assignee_id is None and ticket.status in ACTIVE_STATUSES:
        queues.add(ticket.department_id)
    return fill_queues(queues, declined=declined) if queues else {}


def _queues_served_by(agent_id: int) -> set[int]:
    agent = db.session.get(Agent, agent_id)
    if agent is None:
        return set()
    return DepartmentTree.load().with_ancestors(agent.department_ids)


# Presence


def set_presence(actor: Principal, presence: Presence) -> dict[str, Any]:
    """Change my presence; going (or staying) online hands me waiting work at once. Commits."""
    agent = actor.agent
    previous = agent.presence
    if presence != previous:
        agent.presence = presence
        rooms = [f"agent:{agent.id}", *(f"department:{d}" for d in sorted(agent.department_ids))]
        record_event("agent.presence", {"agent_id": agent.id, "presence": presence.value, "previous": previous.value}, rooms)
    assigned: dict[int, int] = {}
    if presence == Presence.ONLINE:
        db.session.flush()
        assigned = fill_queues(_queues_served_by(agent.id))
    db.session.commit()
    return {"id": agent.id, "presence": presence.value, "assigned_ticket_ids": sorted(t for t, a in assigned.items() if a == agent.id)}


# Transfer


def transfer_ticket(
    actor: Principal,
    ticket: Ticket,
    *,
    version: int,
    reason: str,
    assignee_id: int | None = None,
    department_id: int | None = None,
) -> Ticket:
    """Hand a ticket to another agent, another department's queue, or an agent there, with a reason. Commits.

    A deliberate transfer may go to an online or away agent (they see it when back) but never
    to an offline one; capacity, skills, language and a strict tier policy still apply.
    """
    if version != ticket.version:
        raise Conflict(
            f"Ticket #{ticket.number} was changed by someone else (version {ticket.version}, you sent {version}); reload and try again."
        )
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"Ticket #{ticket.number} is closed and can no longer change; open a follow-up ticket instead.")
    if assignee_id is None and department_id is None:
        raise ValidationProblem("Say where the ticket goes: assignee_id, department_id or both.", errors={"assignee_id": ["Missing."]})
    target = ticket.department_id if department_id is None else _active_department(department_id).id
    if assignee_id is not None:
        _check_transfer_target(ticket, assignee_id, target)
    elif target == ticket.department_id:
        raise ValidationProblem("The ticket is already in that department.", errors={"department_id": ["The ticket's own department."]})
    if target == ticket.department_id and assignee_id == ticket.assignee_id:
        raise ValidationProblem("The ticket is already with that agent.", errors={"assignee_id": ["The ticket's own assignee."]})
    previous_assignee_id, previous_status = ticket.assignee_id, ticket.status.value
    previous: dict[str, Any] = {"department_id": ticket.department_id, "assignee_id": previous_assignee_id, "status": previous_status}
    ticket.department_id = target
    ticket.assignee_id = assignee_id  # a move to another department's queue leaves the old owner behind
    if assignee_id is not None and ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN
    ticket.updated_at = utcnow()
    after = {"department_id": target, "assignee_id": assignee_id, "status": ticket.status.value, "reason": reason}
    audit(actor, "ticket.transferred", ticket_id=ticket.id, before=previous, after=after)
    rooms = {f"ticket:{ticket.id}", f"department:{previous['department_id']}", f"department:{target}"}
    rooms |= {f"agent:{a}" for a in (previous["assignee_id"], assignee_id) if a}
    payload = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "from": {"department_id": previous["department_id"], "assignee_id": previous["assignee_id"]},
        "to": {"department_id": target, "assignee_id": assignee_id},
        "reason": reason,
        "version": ticket.version + 1,
    }
    record_event("ticket.transferred", payload, sorted(rooms))
    db.session.flush()
    refill_after_update(ticket, previous_assignee_id=previous_assignee_id, previous_status=previous_status)
    db.session.commit()
    return ticket


def _active_department(department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None or not department.is_active:
        raise ValidationProblem("No such active department.", errors={"department_id": ["No such active department."]})
    return department


def _check_transfer_target(ticket: Ticket, agent_id: int, department_id: int) -> Agent:
    agent = db.session.get(Agent, agent_id)
    if agent is None or not agent.is_active:
        raise ValidationProblem("No such active agent.", errors={"assignee_id": ["No such active agent."]})
    if not DepartmentTree.load().subtree(department_id) & set(agent.department_ids):
        message = f"{agent.name} does not work in that department or a group below it."
        raise ValidationProblem(message, errors={"assignee_id": [message]})
    if agent.presence == Presence.OFFLINE:
        message = f"{agent.name} is offline; transfer to an online or away agent, or to the department's queue."
        raise ValidationProblem(message, errors={"assignee_id": [message]})
    candidate = AgentCandidate(
        agent_id=agent.id,
        presence=CandidatePresence.ONLINE,  # away is fine for a deliberate transfer (offline is refused above)
        open_load=open_loads([agent.id]).get(agent.id, 0),
        capacity=max(agent.capacity, 0),
        skills=frozenset(agent.skills or ()),
        languages=frozenset(agent.languages or ()),
        senior=agent.senior,
    )
    request = AssignmentRequest(
        ticket_ref=ticket.id,
        required_skills=required_skills(ticket.custom_fields),
        language=ticket.customer.language,
        tier=Tier(ticket.tier.value),
    )
    why = why_ineligible(request, candidate, queue_configs([department_id])[department_id].tier_matching)
    if why is not None:
        message = f"{agent.name} cannot take this ticket: {why}."
        raise ValidationProblem(message, errors={"assignee_id": [message]})
    return agent


# Queue view and settings


def _visible_department(scope: DepartmentScope, department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None or not (scope.all_departments or department_id in scope.visible_department_ids):
        raise NotFound(f"Department {department_id} does not exist or is not visible to you.")
    return department


def department_queue(scope: DepartmentScope, department_id: int, limit: int, now: datetime | None = None) -> dict[str, Any]:
    """A department's waiting tickets, best first, each with its score and the score's parts."""
    _visible_department(scope, department_id)
    now = now or utcnow()
    visible = [visible_tickets_clause(scope)]
    waiting = waiting_tickets([department_id], now, where=visible, scan_limit=max(limit, QUEUE_SCAN_LIMIT))
    items = [
        {
            "id": w.id,
            "number": w.row.number,
            "subject": w.row.subject,
            "status": w.row.status.value,
            "priority": w.row.priority.name.lower(),
            "tier": w.row.tier.value,
            "channel": w.row.channel.value,
            "customer": {"id": w.row.customer_id, "name": w.row.customer_name},
            "created_at": w.row.created_at,
            "next_due_at": w.row.next_due_at,
            "version": w.row.version,
            "waiting_seconds": round(w.waiting_seconds, 3),
            "sla_remaining_seconds": None if w.sla_remaining_seconds is None else round(w.sla_remaining_seconds, 3),
            "score": round(w.score, 3),
            "score_parts": {k: round(v, 3) for k, v in w.parts.items()},
        }
        for w in waiting[:limit]
    ]
    return {"department_id": department_id, "total_waiting": count_waiting([department_id], visible), "items": items}


def queue_settings(scope: DepartmentScope, department_id: int) -> QueueConfig:
    _visible_department(scope, department_id)
    return queue_configs([department_id])[department_id]


def update_queue_settings(actor: Principal, scope: DepartmentScope, department_id: int, data: Mapping[str, Any]) -> QueueConfig:
    """Replace a department's queue settings; switching auto-assign on fills the queue at once. Commits."""
    _visible_department(scope, department_id)
    row = db.session.get(QueueSettings, department_id)
    if row is None:
        row = QueueSettings(department_id=department_id)
        db.session.add(row)
    row.strategy = Strategy(data["strategy"]).value
    row.tier_matching = SeniorPolicy(data["tier_matching"]).value
    row.auto_assign = bool(data["auto_assign"])
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"The queue settings of department {department_id} were created at the same time; reload and try again.") from None
    if row.auto_assign:
        fill_queues([department_id])
    db.session.commit()
    log.info(
        "queue settings of department %s set by agent %s: %s %s auto=%s",
        department_id,
        actor.agent.id,
        row.strategy,
        row.tier_matching,
        row.auto_assign,
    )
    return config_of(row)
