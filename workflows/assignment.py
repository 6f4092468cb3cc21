"""Assignment within a queue: which online agent with room, skills and language takes a ticket.

Rules, in the order they are applied (each excluded agent gets a reason):

1. only agents whose presence is ``online``; ``away`` and ``offline`` agents are never chosen;
2. only agents below their capacity (``open_load < capacity``; capacity 0 takes nothing);
3. the ticket's required skills must all be among the agent's skills;
4. the ticket's language, when known, must be one the agent speaks: equal tags, or one is a
   prefix of the other by whole subtags (``zh`` serves ``zh-CN`` and the reverse; ``zh-CN`` does
   not serve ``zh-TW``); case does not matter;
5. tier matching (``TierMatching``): tickets of ``senior_tiers`` (diamond and gold by default) go
   to senior agents. ``preferred`` (default) tries seniors first and falls back to any eligible
   agent; ``strict`` keeps the ticket waiting until a senior is free; ``off`` ignores seniority.

Among the remaining agents:

* ``round_robin`` takes, in agent-id order, the first agent after the cursor (the agent who got
  the queue's previous ticket), wrapping round; over a stable pool each agent's share differs by
  at most one;
* ``least_loaded`` takes the lowest ``open_load / capacity``, then the longest idle (never
  assigned counts as idle longest), then the lowest id.

``plan_assignments`` serves "assign the moment someone is free": given the waiting tickets in
queue order (``queue_order.order_queue``), it assigns greedily from the top, counting each
assignment against the agent's capacity, and skips a ticket nobody can take without blocking
those behind it. Greedy means the best ticket takes its strategy's choice even if that agent was
the only one a later ticket could use; with one agent freeing one slot, the usual event, that is
exactly right.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from workflows.queue_order import Tier


class Presence(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Strategy(enum.StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"


class SeniorPolicy(enum.StrEnum):
    STRICT = "strict"
    PREFERRED = "preferred"
    OFF = "off"


@dataclass(frozen=True)
class TierMatching:
    policy: SeniorPolicy = SeniorPolicy.PREFERRED
    senior_tiers: frozenset[Tier] = frozenset({Tier.DIAMOND, Tier.GOLD})

    def wants_senior(self, tier: Tier | None) -> bool:
        return self.policy is not SeniorPolicy.OFF and tier is not None and tier in self.senior_tiers


DEFAULT_TIER_MATCHING = TierMatching()


@dataclass(frozen=True, kw_only=True)
class AgentCandidate:
    agent_id: int
    presence: Presence
    open_load: int
    capacity: int
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    senior: bool = False
    last_assigned_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.open_load < 0 or self.capacity < 0:
            raise ValueError(f"agent {self.agent_id}: open_load and capacity must not be negative")
        if self.last_assigned_at is not None and self.last_assigned_at.utcoffset() is None:
            raise ValueError(f"agent {self.agent_id}: last_assigned_at must be timezone-aware")

    @property
    def online(self) -> bool:
        return self.presence is Presence.ONLINE

    @property
    def free_slots(self) -> int:
        return max(self.capacity - self.open_load, 0)


@dataclass(frozen=True, kw_only=True)
class AssignmentRequest:
    ticket_ref: int | str
    required_skills: frozenset[str] = frozenset()
    language: str | None = None
    tier: Tier | None = None
    strategy: Strategy = Strategy.LEAST_LOADED


@dataclass(frozen=True)
class AssignmentDecision:
    """``agent_id`` None means the ticket waits; ``cursor`` is the round-robin cursor to store."""

    agent_id: int | None
    reason: str
    cursor: int | None
    excluded: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))


def speaks(agent_languages: Iterable[str], language: str | None) -> bool:
    """Whether an agent with these language tags can serve a ticket in ``language``."""
    if not language:
        return True
    wanted = _subtags(language)
    if not wanted:
        return True
    for spoken in agent_languages:
        tags = _subtags(spoken)
        if not tags:
            continue
        shorter = min(len(tags), len(wanted))
        if tags[:shorter] == wanted[:shorter]:
            return True
    return False


def why_ineligible(request: AssignmentRequest, agent: AgentCandidate, tier_matching: TierMatching = DEFAULT_TIER_MATCHING) -> str | None:
    """The reason this agent cannot take the ticket now, or None. Seniority counts only under the
    strict policy; under ``preferred`` it orders the choice without excluding anyone."""
    if not agent.online:
        return f"is {agent.presence}"
    if agent.open_load >= agent.capacity:
        return f"is at capacity ({agent.open_load}/{agent.capacity})"
    missing = request.required_skills - agent.skills
    if missing:
        return f"lacks skills [{', '.join(sorted(missing))}]"
    if not speaks(agent.languages, request.language):
        return f"does not speak {request.language}"
    if tier_matching.policy is SeniorPolicy.STRICT and tier_matching.wants_senior(request.tier) and not agent.senior:
        return f"is not senior (strict policy for {request.tier} customers)"
    return None


def pick_agent(
    request: AssignmentRequest,
    candidates: Sequence[AgentCandidate],
    round_robin_cursor: int | None = None,
    tier_matching: TierMatching = DEFAULT_TIER_MATCHING,
) -> AssignmentDecision:
    """The agent who should take this ticket now, or None with the reason it waits."""
    excluded: dict[int, str] = {}
    eligible: list[AgentCandidate] = []
    for agent in candidates:
        reason = why_ineligible(request, agent, tier_matching)
        if reason is None:
            eligible.append(agent)
        else:
            excluded[agent.agent_id] = reason
    if not eligible:
        if candidates:
            summary = "; ".join(f"agent {agent_id} {why}" for agent_id, why in excluded.items())
            reason = f"waits: no eligible agent among {len(candidates)} ({summary})"
        else:
            reason = "waits: the queue has no agents"
        return AssignmentDecision(None, reason, round_robin_cursor, MappingProxyType(excluded))

    pool, pool_note = eligible, ""
    if tier_matching.wants_senior(request.tier):
        seniors = [agent for agent in eligible if agent.senior]
        if seniors:
            pool, pool_note = seniors, f"senior agent for a {request.tier} customer"
        else:
            pool_note = f"no senior agent free for a {request.tier} customer, fell back to any eligible agent"

    if request.strategy is Strategy.ROUND_ROBIN:
        chosen = _next_after(pool, round_robin_cursor)
        how = f"round robin after agent {round_robin_cursor}" if round_robin_cursor is not None else "round robin from the start"
    else:
        chosen = min(pool, key=_load_then_idle)
        how = f"least loaded ({chosen.open_load}/{chosen.capacity})"
    reason = f"agent {chosen.agent_id}: {how} among {len(pool)} eligible" + (f"; {pool_note}" if pool_note else "")
    return AssignmentDecision(chosen.agent_id, reason, chosen.agent_id, MappingProxyType(excluded))


@dataclass(frozen=True)
class Assignment:
    request: AssignmentRequest
    agent_id: int
    reason: str


@dataclass(frozen=True)
class AssignmentPlan:
    assignments: tuple[Assignment, ...]
    waiting: tuple[AssignmentRequest, ...]
    cursor: int | None


def plan_assignments(
    waiting: Sequence[AssignmentRequest],
    candidates: Sequence[AgentCandidate],
    *,
    now: datetime,
    round_robin_cursor: int | None = None,
    tier_matching: TierMatching = DEFAULT_TIER_MATCHING,
) -> AssignmentPlan:
    """Assign waiting tickets, given best first, to the agents free now (see the module doc).

    Each assignment raises the agent's load and sets their last assignment to ``now`` for the
    rest of the batch, so capacity holds across the batch and least-loaded spreads the work.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    agents = {agent.agent_id: agent for agent in candidates}
    cursor = round_robin_cursor
    assigned: list[Assignment] = []
    left: list[AssignmentRequest] = []
    for index, request in enumerate(waiting):
        if not any(agent.online and agent.free_slots for agent in agents.values()):
            left.extend(waiting[index:])
            break
        decision = pick_agent(request, list(agents.values()), cursor, tier_matching)
        if decision.agent_id is None:
            left.append(request)
            continue
        agent = agents[decision.agent_id]
        agents[agent.agent_id] = replace(agent, open_load=agent.open_load + 1, last_assigned_at=now)
        cursor = decision.cursor
        assigned.append(Assignment(request, agent.agent_id, decision.reason))
    return AssignmentPlan(tuple(assigned), tuple(left), cursor)


def _next_after(pool: Sequence[AgentCandidate], cursor: int | None) -> AgentCandidate:
    ordered = sorted(pool, key=lambda agent: agent.agent_id)
    if cursor is not None:
        for agent in ordered:
            if agent.agent_id > cursor:
                return agent
    return ordered[0]


def _load_then_idle(agent: AgentCandidate) -> tuple[float, int, float, int]:
    # Never assigned sorts before any timestamp; among timestamps, the oldest first.
    never = 0 if agent.last_assigned_at is None else 1
    stamp = agent.last_assigned_at.timestamp() if agent.last_assigned_at is not None else 0.0
    return (agent.open_load / agent.capacity, never, stamp, agent.agent_id)


def _subtags(tag: str) -> list[str]:
    return [part for part in tag.strip().replace("_", "-").casefold().split("-") if part]
