"""What department queues look like now: settings, candidate agents with their load, waiting tickets in order.

Each read is one query for any number of departments (the load of every candidate is one
grouped count), so filling queues costs the same for one agent or fifty.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from service_hub.casework.models import QueueSettings
from service_hub.core.extensions import db
from service_hub.customers.models import Customer
from service_hub.org.models import Agent, DepartmentMembership
from service_hub.org.models import Presence as OrgPresence
from service_hub.org.tree import DepartmentTree
from service_hub.tickets.models import ACTIVE_STATUSES, Ticket
from workflows.assignment import DEFAULT_TIER_MATCHING, AgentCandidate, AssignmentRequest, Presence, SeniorPolicy, Strategy, TierMatching
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

log = logging.getLogger(__name__)

# Waiting tickets scored per fill or queue view. They are read best-first in SQL by priority, then
# tier, then age, so diamond and gold tickets are always inside the window; past it, only the
# waiting and SLA terms of same-tier tickets go unseen until the queue shrinks.
QUEUE_SCAN_LIMIT = 2000

_TIER_RANK = {tier.value: rank for rank, tier in enumerate(Tier)}


# Settings


@dataclass(frozen=True)
class QueueConfig:
    department_id: int
    strategy: Strategy = Strategy.LEAST_LOADED
    tier_matching: TierMatching = DEFAULT_TIER_MATCHING
    auto_assign: bool = True
    cursor: int | None = None
    stored: bool = False  # False: no queue_settings row, these are the defaults


def queue_configs(department_ids: Iterable[int]) -> dict[int, QueueConfig]:
    """Each department's settings; the defaults (least loaded, preferred, auto on) where no row is stored."""
    ids = set(department_ids)
    configs = {d: QueueConfig(d) for d in ids}
    if not ids:
        return configs
    # Plain columns, not ORM objects: a cursor moved earlier in this transaction is read as it is now.
    columns = (QueueSettings.department_id, QueueSettings.strategy, QueueSettings.tier_matching, QueueSettings.auto_assign)
    rows = db.session.execute(select(*columns, QueueSettings.round_robin_cursor).where(QueueSettings.department_id.in_(ids)))
    for row in rows:
        configs[row.department_id] = config_of(row)
    return configs


def config_of(row: Any) -> QueueConfig:
    """The settings of a queue_settings row (or a row of its columns)."""
    try:
        strategy, policy = Strategy(row.strategy), SeniorPolicy(row.tier_matching)
    except ValueError:
        # Writes are validated; a hand-edited row must not stop intake.
        log.error("queue_settings of department %s are unusable, using the defaults", row.department_id)
        strategy, policy = Strategy.LEAST_LOADED, SeniorPolicy.PREFERRED
    return QueueConfig(row.department_id, strategy, TierMatching(policy), bool(row.auto_assign), row.round_robin_cursor, True)


# Candidates


@dataclass(frozen=True)
class Pool:
    """Candidate agents, and for each queue the ids of those who serve it (members of its subtree)."""

    agents: Mapping[int, AgentCandidate]
    serving: Mapping[int, frozenset[int]]

    def for_queue(self, department_id: int, agents: Mapping[int, AgentCandidate] | None = None) -> list[AgentCandidate]:
        current = self.agents if agents is None else agents
        return [current[i] for i in sorted(self.serving.get(department_id, ()))]


def candidate_pool(department_ids: Collection[int], tree: DepartmentTree, *, online_only: bool = True) -> Pool:
    """Active members of each queue's subtree with their open load: two queries for all queues."""
    subtrees = {d: tree.subtree(d) for d in department_ids}
    wanted = set().union(*subtrees.values()) if subtrees else set()
    if not wanted:
        return Pool({}, {})
    query = (
        select(Agent.id, Agent.presence, Agent.capacity, Agent.skills, Agent.languages, Agent.senior, DepartmentMembership.department_id)
        .join(DepartmentMembership, DepartmentMembership.agent_id == Agent.id)
        .where(DepartmentMembership.department_id.in_(wanted), Agent.is_active.is_(True))
    )
    if online_only:
        query = query.where(Agent.presence == OrgPresence.ONLINE)
    rows = db.session.execute(query).all()
    member_of: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        member_of[row.id].add(row.department_id)
    loads = open_loads(member_of)
    agents: dict[int, AgentCandidate] = {}
    for row in rows:
        if row.id not in agents:
            agents[row.id] = AgentCandidate(
                agent_id=row.id,
                presence=Presence(row.presence.value),
                open_load=loads.get(row.id, 0),
                capacity=max(row.capacity, 0),
                skills=frozenset(row.skills or ()),
                languages=frozenset(row.languages or ()),
                senior=bool(row.senior),
            )
    serving = {d: frozenset(a for a, depts in member_of.items() if depts & sub) for d, sub in subtrees.items()}
    return Pool(agents, serving)


def open_loads(agent_ids: Iterable[int]) -> dict[int, int]:
    """Active (new, open, pending, on hold) tickets assigned to each agent: one grouped query."""
    ids = set(agent_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Ticket.assignee_id, func.count())
        .where(Ticket.assignee_id.in_(ids), Ticket.status.in_(ACTIVE_STATUSES))
        .group_by(Ticket.assignee_id)
    )
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


# Waiting tickets


@dataclass(frozen=True)
class WaitingTicket:
    """An unassigned active ticket with its place in the queue and why."""

    row: Any  # the selected columns (id, number, subject, status, priority, tier, ...)
    skills: frozenset[str]
    language: str | None
    waiting_seconds: float
    sla_remaining_seconds: float | None
    score: float
    parts: Mapping[str, float]

    @property
    def id(self) -> int:
        return int(self.row.id)

    @property
    def department_id(self) -> int:
        return int(self.row.department_id)

    def request(self, strategy: Strategy) -> AssignmentRequest:
        return AssignmentRequest(
            ticket_ref=self.id, required_skills=self.skills, language=self.language, tier=Tier(self.row.tier.value), strategy=strategy
        )


def required_skills(custom_fields: Any) -> frozenset[str]:
    """The skills a ticket needs: custom_fields["skills"], a list of names (one name is accepted too)."""
    raw = custom_fields.get("skills") if isinstance(custom_fields, dict) else None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(s.strip() for s in raw if isinstance(s, str) and s.strip())


def score_parts(
    tier: Tier, priority: Priority, waiting_seconds: float, sla_remaining_seconds: float | None, weights: QueueWeights = DEFAULT_WEIGHTS
) -> dict[str, float]:
    """The four terms of workflows.queue_order.queue_score, for showing why a ticket sits where it does."""
    return {
        "priority": weights.priority_points[priority],
        "tier": weights.tier_points[tier],
        "waiting": waiting_points(waiting_seconds, weights),
        "sla_risk": sla_risk_points(sla_remaining_seconds, weights),
    }


def waiting_clause(department_ids: Collection[int]) -> ColumnElement[bool]:
    return Ticket.department_id.in_(department_ids) & Ticket.assignee_id.is_(None) & Ticket.status.in_(ACTIVE_STATUSES)


def waiting_tickets(
    department_ids: Collection[int],
    now: datetime,
    *,
    where: Iterable[ColumnElement[bool]] = (),
    weights: QueueWeights = DEFAULT_WEIGHTS,
    scan_limit: int = QUEUE_SCAN_LIMIT,
) -> list[WaitingTicket]:
    """The waiting tickets of these queues, best first by queue score (one query)."""
    if not department_ids:
        return []
    tier_rank = case(_TIER_RANK, value=Ticket.tier, else_=len(_TIER_RANK))
    rows = db.session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.subject,
            Ticket.status,
            Ticket.priority,
            Ticket.tier,
            Ticket.channel,
            Ticket.department_id,
            Ticket.customer_id,
            Ticket.custom_fields,
            Ticket.created_at,
            Ticket.next_due_at,
            Ticket.version,
            Customer.name.label("customer_name"),
            Customer.language,
        )
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(waiting_clause(department_ids), *where)
        .order_by(Ticket.priority.desc(), tier_rank, Ticket.created_at, Ticket.id)
        .limit(scan_limit)
    ).all()
    by_id: dict[int, WaitingTicket] = {}
    queued: list[QueuedTicket] = []
    for row in rows:
        tier, priority = Tier(row.tier.value), Priority(int(row.priority))
        waited = max((now - row.created_at).total_seconds(), 0.0)
        remaining = (row.next_due_at - now).total_seconds() if row.next_due_at is not None else None
        by_id[row.id] = WaitingTicket(
            row=row,
            skills=required_skills(row.custom_fields),
            language=row.language,
            waiting_seconds=waited,
            sla_remaining_seconds=remaining,
            score=queue_score(tier, priority, waited, remaining, weights),
            parts=score_parts(tier, priority, waited, remaining, weights),
        )
        queued.append(QueuedTicket(row.id, tier, priority, waited, remaining))
    # Rows come oldest first within a band, so order_queue's stable ties favour the longest wait.
    return [by_id[int(q.ref)] for q in order_queue(queued, weights)]


def count_waiting(department_ids: Collection[int], where: Iterable[ColumnElement[bool]] = ()) -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket).where(waiting_clause(department_ids), *where)) or 0
