"""The value model's settings: RFM thresholds, CLV assumptions, churn rules, AHP matrices, tier rules.

A model is a JSON document (stored in value_models, edited by admins over the API); `parse` turns
it into a ValueModelConfig and refuses anything the scorer could not use, with a message that says
what is wrong. `DEFAULT_MODEL` is what a fresh installation scores with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from service_hub.customers.models import Tier
from service_hub.value.ahp import InconsistentMatrix, weights

# Indicators an AHP criterion may use: each is a column of value_customer_scores; `lower` ones
# score better when smaller. Scores are normalised to 0..1 as value / cap, where the cap is the
# 99th percentile of the last full run (so a few outliers do not flatten everyone else).
METRICS: dict[str, str] = {
    "monetary": "higher",
    "frequency": "higher",
    "avg_arpu": "higher",
    "clv": "higher",
    "spend_trend": "higher",  # spend in the recent trend window / the window before it
    "tenure_days": "higher",
    "recency_days": "lower",
    "churn_risk": "lower",
}
CRITERIA = ("current", "potential", "relationship")
TIER_BASES = ("index", "arpu")
LIFECYCLE_STAGES = ("potential", "first_purchase", "repeat", "loyal", "churned")


class ModelError(ValueError):
    """The document is not a usable value model. `field` points at the offending part."""

    def __init__(self, message: str, field: str, consistency_ratio: float | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.consistency_ratio = consistency_ratio


@dataclass(frozen=True)
class Criterion:
    key: str  # current, potential, relationship
    indicators: tuple[str, ...]
    matrix: tuple[tuple[float, ...], ...]  # pairwise comparison of the indicators


@dataclass(frozen=True)
class TierRule:
    tier: str
    basis: str  # index (value index 0..100) or arpu (average monthly ARPU)
    minimum: float

    @property
    def label(self) -> str:
        return f"{self.tier}: {self.basis} >= {self.minimum:g}"


@dataclass(frozen=True)
class ValueModelConfig:
    # RFM: frequency and monetary count purchases in the last `window_days`; recency uses all history.
    window_days: int = 365
    # 8-segment thresholds; None = the population mean of that raw value.
    recency_threshold: float | None = None
    frequency_threshold: float | None = None
    monetary_threshold: float | None = None
    # CLV. Simple: average order value x purchases per year x lifespan_years x margin.
    # Contract: monthly margin (ARPU x margin) x r / (1 + d - r).
    margin: float = 0.3
    lifespan_years: float = 3.0
    monthly_retention: float = 0.97
    monthly_discount: float = 0.01
    # Lifecycle
    churned_after_days: int = 180
    loyal_min_frequency: int = 6
    # Churn risk: compares the last `trend_days` with the `trend_days` before them.
    trend_days: int = 90
    falling_share: float = 0.5  # recent below this share of prior = falling
    churn_weights: dict[str, float] = field(
        default_factory=lambda: {
            "recency_rising": 30.0,
            "frequency_falling": 20.0,
            "spend_falling": 20.0,
            "complaint": 10.0,
            "sla_breach": 5.0,
        }
    )
    complaint_cap: int = 2  # at most this many complaints count
    breach_cap: int = 2
    # AHP
    criteria_matrix: tuple[tuple[float, ...], ...] = ((1, 2, 3), (1 / 2, 1, 2), (1 / 3, 1 / 2, 1))
    criteria: tuple[Criterion, ...] = (
        Criterion("current", ("monetary", "avg_arpu", "frequency"), ((1, 1, 3), (1, 1, 3), (1 / 3, 1 / 3, 1))),
        Criterion("potential", ("clv", "spend_trend"), ((1, 2), (1 / 2, 1))),
        Criterion("relationship", ("tenure_days", "recency_days", "churn_risk"), ((1, 1 / 2, 1 / 2), (2, 1, 1), (2, 1, 1))),
    )
    # Tiers, best first; the first rule a customer meets sets the tier; none met = normal.
    tier_rules: tuple[TierRule, ...] = (
        TierRule("diamond", "index", 80),
        TierRule("gold", "index", 65),
        TierRule("silver", "index", 50),
        TierRule("vip", "arpu", 200),
    )

    def global_weights(self) -> dict[str, dict[str, float]]:
        """{criterion: {indicator: criterion weight x local weight}}; the matrices are checked."""
        top = weights(self.criteria_matrix, "criteria matrix").weights
        out: dict[str, dict[str, float]] = {}
        for criterion, cw in zip(self.criteria, top, strict=True):
            local = weights(criterion.matrix, f"{criterion.key} matrix").weights
            out[criterion.key] = {ind: cw * lw for ind, lw in zip(criterion.indicators, local, strict=True)}
        return out

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["criteria_matrix"] = [list(r) for r in self.criteria_matrix]
        doc["criteria"] = [{"key": c.key, "indicators": list(c.indicators), "matrix": [list(r) for r in c.matrix]} for c in self.criteria]
        doc["tier_rules"] = [{"tier": r.tier, "basis": r.basis, "minimum": r.minimum} for r in self.tier_rules]
        return doc


DEFAULT_MODEL = ValueModelConfig()


def _number(doc: dict[str, Any], key: str, low: float, high: float, integer: bool = False) -> Any:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise ModelError(f"{key} must be {'a whole number' if integer else 'a number'}.", key)
    if not low <= value <= high:
        raise ModelError(f"{key} must be between {low:g} and {high:g}, not {value:g}.", key)
    return value


def _matrix(raw: Any, key: str) -> tuple[tuple[float, ...], ...]:
    if not isinstance(raw, list) or not all(
        isinstance(r, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in r) for r in raw
    ):
        raise ModelError("A pairwise matrix is a list of rows of numbers.", key)
    return tuple(tuple(float(v) for v in r) for r in raw)


def parse(document: dict[str, Any]) -> ValueModelConfig:
    """A model from its JSON document; missing keys take the default. Raises ModelError."""
    base = DEFAULT_MODEL.to_document()
    unknown = sorted(set(document) - set(base))
    if unknown:
        raise ModelError(f"Unknown setting(s): {', '.join(unknown)}.", unknown[0])
    doc = {**base, **document}
    thresholds = {}
    for key in ("recency_threshold", "frequency_threshold", "monetary_threshold"):
        thresholds[key] = None if doc[key] is None else _number(doc, key, 0, 1e12)
    churn_weights = doc["churn_weights"]
    expected = set(DEFAULT_MODEL.churn_weights)
    if not isinstance(churn_weights, dict) or set(churn_weights) != expected:
        raise ModelError(f"churn_weights needs exactly these reasons: {', '.join(sorted(expected))}.", "churn_weights")
    if any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in churn_weights.values()):
        raise ModelError("churn_weights must be numbers of zero or more.", "churn_weights")
    worst = sum(
        churn_weights[k] * (doc["complaint_cap"] if k == "complaint" else doc["breach_cap"] if k == "sla_breach" else 1)
        for k in churn_weights
    )
    if worst > 100 + 1e-9:
        raise ModelError(f"churn_weights can add up to {worst:g}; the churn risk is a score out of 100.", "churn_weights")

    raw_criteria = doc["criteria"]
    if not isinstance(raw_criteria, list) or [c.get("key") if isinstance(c, dict) else None for c in raw_criteria] != list(CRITERIA):
        raise ModelError(f"criteria must list {', '.join(CRITERIA)} in that order.", "criteria")
    criteria = []
    for c in raw_criteria:
        indicators = c.get("indicators")
        if not isinstance(indicators, list) or not indicators or len(set(indicators)) != len(indicators):
            raise ModelError(f"The {c['key']} criterion needs a list of distinct indicators.", "criteria")
        bad = [i for i in indicators if i not in METRICS]
        if bad:
            raise ModelError(f"Unknown indicator(s) {', '.join(map(str, bad))}; choose from {', '.join(METRICS)}.", "criteria")
        matrix = _matrix(c.get("matrix"), "criteria")
        if len(matrix) != len(indicators):
            raise ModelError(f"The {c['key']} matrix must be {len(indicators)} x {len(indicators)}, one row per indicator.", "criteria")
        criteria.append(Criterion(c["key"], tuple(indicators), matrix))

    rules = []
    if not isinstance(doc["tier_rules"], list):
        raise ModelError("tier_rules is a list of {tier, basis, minimum}.", "tier_rules")
    ranks = {t.value: i for i, t in enumerate(Tier)}
    for r in doc["tier_rules"]:
        if not isinstance(r, dict) or r.get("tier") not in ranks or r["tier"] == Tier.NORMAL.value:
            raise ModelError("Each tier rule names one of diamond, gold, silver, vip (normal is what is left).", "tier_rules")
        if r.get("basis") not in TIER_BASES:
            raise ModelError(f"A tier rule's basis is one of {', '.join(TIER_BASES)}.", "tier_rules")
        if isinstance(r.get("minimum"), bool) or not isinstance(r.get("minimum"), int | float):
            raise ModelError("A tier rule's minimum is a number.", "tier_rules")
        rules.append(TierRule(r["tier"], r["basis"], float(r["minimum"])))
    if [ranks[r.tier] for r in rules] != sorted(ranks[r.tier] for r in rules):
        raise ModelError("Tier rules go best tier first: diamond, gold, silver, vip.", "tier_rules")

    config = ValueModelConfig(
        window_days=_number(doc, "window_days", 30, 3650, integer=True),
        **thresholds,
        margin=_number(doc, "margin", 0, 1),
        lifespan_years=_number(doc, "lifespan_years", 0, 50),
        monthly_retention=_number(doc, "monthly_retention", 0, 0.9999),
        monthly_discount=_number(doc, "monthly_discount", 0, 1),
        churned_after_days=_number(doc, "churned_after_days", 1, 3650, integer=True),
        loyal_min_frequency=_number(doc, "loyal_min_frequency", 2, 10_000, integer=True),
        trend_days=_number(doc, "trend_days", 7, 365, integer=True),
        falling_share=_number(doc, "falling_share", 0, 1),
        churn_weights={k: float(v) for k, v in churn_weights.items()},
        complaint_cap=_number(doc, "complaint_cap", 0, 100, integer=True),
        breach_cap=_number(doc, "breach_cap", 0, 100, integer=True),
        criteria_matrix=_matrix(doc["criteria_matrix"], "criteria_matrix"),
        criteria=tuple(criteria),
        tier_rules=tuple(rules),
    )
    if len(config.criteria_matrix) != len(CRITERIA):
        raise ModelError(f"criteria_matrix must be {len(CRITERIA)} x {len(CRITERIA)}: {', '.join(CRITERIA)}.", "criteria_matrix")
    try:
        config.global_weights()
    except InconsistentMatrix as exc:
        where = "criteria_matrix" if "criteria matrix" in str(exc) else "criteria"
        raise ModelError(str(exc), where, exc.consistency_ratio) from exc
    return config
