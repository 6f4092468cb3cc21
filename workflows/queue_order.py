"""Queue order: one documented, tunable score per waiting ticket; the highest score is served first.

The score
---------
For a ticket of tier ``t`` and priority ``p`` that has waited ``w`` seconds and whose nearest SLA
clock is due in ``r`` seconds (negative once breached, ``None`` when no clock runs)::

    score = P[p] + T[t] + W * w / (w + H)  +  R * clamp((S - r) / S, 0, 1)
            ^^^^   ^^^^   ^^^^^^^^^^^^^^^     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
            priority tier  waiting term        SLA-risk term (0 when r is None)

* ``P`` (``priority_points``), ``T`` (``tier_points``): fixed bands.
* waiting term: strictly increasing in ``w``, half of ``W`` (``waiting_max_points``) after ``H``
  seconds (``waiting_half_life_seconds``), and always ``< W`` (``<= W`` once floats saturate).
* SLA-risk term: zero until the clock is within ``S`` seconds (``sla_risk_horizon_seconds``) of
  its due time, rising linearly to ``R`` (``sla_risk_max_points``) at the due time, and staying at
  ``R`` after a breach.

The guarantee
-------------
Both dynamic terms are bounded: together they add at most ``W + R``. For the same priority, a
ticket of a protected tier ``g`` (diamond and gold by default) scores at least ``P[p] + T[g]``
while a normal ticket scores at most ``P[p] + T[normal] + W + R``. ``QueueWeights`` refuses any
setting where ``T[g] - T[normal] <= W + R`` (plus room for float rounding), so no waiting time
and no SLA risk can lift a normal ticket above a diamond or gold one of the same priority.

With the defaults (T: diamond 400, gold 300, silver 200, vip 100, normal 0; W 150; R 140) the
margin is 300 - 290 = 10 points. Silver and vip get a head start, not a guarantee: a normal
ticket close to breach may pass them. Priority bands are 1000 apart, more than the widest tier
gap plus both dynamic terms (400 + 290), so by default a higher priority always comes first,
whatever the tier; ``QueueWeights.priority_dominates`` says whether a custom setting keeps that.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from types import MappingProxyType


class Tier(enum.StrEnum):
    """Customer-value tiers, best first (the values the customers feature stores)."""

    DIAMOND = "diamond"
    GOLD = "gold"
    SILVER = "silver"
    VIP = "vip"
    NORMAL = "normal"


class Priority(enum.IntEnum):
    """Ticket priority; the same integers as the tickets feature stores."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4

    @classmethod
    def from_name(cls, name: str) -> Priority:
        """``"high"`` -> ``Priority.HIGH``; raises ``ValueError`` naming the accepted names."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            accepted = ", ".join(p.name.lower() for p in cls)
            raise ValueError(f"unknown priority {name!r}; expected one of {accepted}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


_DEFAULT_PRIORITY_POINTS = {Priority.LOW: 0.0, Priority.NORMAL: 1000.0, Priority.HIGH: 2000.0, Priority.URGENT: 3000.0}
_DEFAULT_TIER_POINTS = {Tier.DIAMOND: 400.0, Tier.GOLD: 300.0, Tier.SILVER: 200.0, Tier.VIP: 100.0, Tier.NORMAL: 0.0}


@dataclass(frozen=True)
class QueueWeights:
    """The tunable constants of the score; construction checks the tier guarantee (module doc)."""

    priority_points: Mapping[Priority, float] = field(default_factory=lambda: MappingProxyType(dict(_DEFAULT_PRIORITY_POINTS)))
    tier_points: Mapping[Tier, float] = field(default_factory=lambda: MappingProxyType(dict(_DEFAULT_TIER_POINTS)))
    waiting_max_points: float = 150.0
    waiting_half_life_seconds: float = 600.0
    sla_risk_max_points: float = 140.0
    sla_risk_horizon_seconds: float = 1800.0
    # Tiers that never wait behind a normal ticket of the same priority.
    protected_tiers: frozenset[Tier] = frozenset({Tier.DIAMOND, Tier.GOLD})

    def __post_init__(self) -> None:
        problems: list[str] = []
        missing_p = [p.label for p in Priority if p not in self.priority_points]
        missing_t = [t.value for t in Tier if t not in self.tier_points]
        if missing_p:
            problems.append(f"priority_points lacks {', '.join(missing_p)}")
        if missing_t:
            problems.append(f"tier_points lacks {', '.join(missing_t)}")
        numbers = {
            **{f"priority_points[{k}]": v for k, v in self.priority_points.items()},
            **{f"tier_points[{k}]": v for k, v in self.tier_points.items()},
            "waiting_max_points": self.waiting_max_points,
            "sla_risk_max_points": self.sla_risk_max_points,
            "waiting_half_life_seconds": self.waiting_half_life_seconds,
            "sla_risk_horizon_seconds": self.sla_risk_horizon_seconds,
        }
        problems += [f"{name} must be a finite number, not {value!r}" for name, value in numbers.items() if not math.isfinite(value)]
        if problems:
            raise ValueError("; ".join(problems))
        if self.waiting_max_points < 0 or self.sla_risk_max_points < 0:
            problems.append("waiting_max_points and sla_risk_max_points must not be negative")
        if self.waiting_half_life_seconds <= 0 or self.sla_risk_horizon_seconds <= 0:
            problems.append("waiting_half_life_seconds and sla_risk_horizon_seconds must be positive")
        if Tier.NORMAL in self.protected_tiers:
            problems.append("protected_tiers cannot contain normal: they are protected against normal")
        dynamic = self.waiting_max_points + self.sla_risk_max_points
        for tier in sorted(self.protected_tiers - {Tier.NORMAL}):
            margin = self.tier_points[tier] - self.tier_points[Tier.NORMAL]
            if margin <= dynamic + self._rounding_room():
                problems.append(
                    f"tier_points[{tier}] - tier_points[normal] = {margin:g} must exceed "
                    f"waiting_max_points + sla_risk_max_points = {dynamic:g}, or a long-waiting normal ticket "
                    f"could rank above a {tier} one of the same priority"
                )
        if problems:
            raise ValueError("; ".join(problems))

    def _rounding_room(self) -> float:
        # Sums of a few floats err by a few ulps of the largest term; leave a million times that.
        largest = max(abs(v) for v in [*self.priority_points.values(), *self.tier_points.values(), 1.0])
        return largest * 1e-9

    @property
    def priority_dominates(self) -> bool:
        """True when each priority band is wider than any tier gap plus both dynamic terms,
        so a higher priority always ranks first whatever the tier, waiting time and SLA risk."""
        tier_span = max(self.tier_points.values()) - min(self.tier_points.values())
        needed = tier_span + self.waiting_max_points + self.sla_risk_max_points + self._rounding_room()
        ordered = [self.priority_points[p] for p in sorted(Priority)]
        return all(high - low > needed for low, high in pairwise(ordered))


DEFAULT_WEIGHTS = QueueWeights()


def waiting_points(waiting_seconds: float, weights: QueueWeights = DEFAULT_WEIGHTS) -> float:
    """The waiting term: ``W * w / (w + H)``; negative waits (clock skew) count as zero."""
    _require_finite("waiting_seconds", waiting_seconds)
    waited = max(waiting_seconds, 0.0)
    return weights.waiting_max_points * waited / (waited + weights.waiting_half_life_seconds)


def sla_risk_points(sla_remaining_seconds: float | None, weights: QueueWeights = DEFAULT_WEIGHTS) -> float:
    """The SLA-risk term: ``R * clamp((S - r) / S, 0, 1)``; zero when no clock runs."""
    if sla_remaining_seconds is None:
        return 0.0
    _require_finite("sla_remaining_seconds", sla_remaining_seconds)
    horizon = weights.sla_risk_horizon_seconds
    fraction = min(max((horizon - sla_remaining_seconds) / horizon, 0.0), 1.0)
    return weights.sla_risk_max_points * fraction


def queue_score(
    tier: Tier,
    priority: Priority,
    waiting_seconds: float,
    sla_remaining_seconds: float | None = None,
    weights: QueueWeights = DEFAULT_WEIGHTS,
) -> float:
    """The ticket's place in its queue, higher first; the formula is in the module docstring."""
    return (
        weights.priority_points[priority]
        + weights.tier_points[tier]
        + waiting_points(waiting_seconds, weights)
        + sla_risk_points(sla_remaining_seconds, weights)
    )


@dataclass(frozen=True)
class QueuedTicket:
    """What the queue needs to know of a waiting ticket; ``ref`` is the caller's ticket id."""

    ref: int | str
    tier: Tier
    priority: Priority
    waiting_seconds: float
    sla_remaining_seconds: float | None = None


def queue_sort_key(weights: QueueWeights = DEFAULT_WEIGHTS) -> Callable[[QueuedTicket], tuple[float, float]]:
    """A ``sorted`` key putting the highest score first, then the longest wait.

    Exact ties keep their input order (``sorted`` is stable), so feed tickets oldest first.
    """

    def key(ticket: QueuedTicket) -> tuple[float, float]:
        score = queue_score(ticket.tier, ticket.priority, ticket.waiting_seconds, ticket.sla_remaining_seconds, weights)
        return (-score, -ticket.waiting_seconds)

    return key


def order_queue(tickets: Iterable[QueuedTicket], weights: QueueWeights = DEFAULT_WEIGHTS) -> list[QueuedTicket]:
    """The tickets in the order agents should take them."""
    return sorted(tickets, key=queue_sort_key(weights))


def _require_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, not {value!r}")
