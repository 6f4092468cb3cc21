"""The value index of one customer, explained: indicator values, normalised scores, weights.

scoring.py computes the same index for everyone in SQL; this is the Python statement of the
formula, used to explain a customer's index and checked against the SQL in the tests.

Normalisation: an indicator's score is value / cap clipped to 0..1, where the cap is that
indicator's 99th percentile in the last full run (value_runs.statistics["caps"]); indicators that
are better when lower (recency, churn risk) score 1 - that. A customer with no purchases has no
recency and scores 0 on it. index = 100 x sum(criterion weight x local weight x score).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service_hub.value.config import METRICS, ValueModelConfig


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def metric_values(score: Mapping[str, Any]) -> dict[str, float | None]:
    """The indicator catalogue's values from a value_customer_scores row (as a mapping)."""
    recent, prior = _f(score["spend_recent"]) or 0.0, _f(score["spend_prior"]) or 0.0
    contract = _f(score["clv_contract"])
    return {
        "monetary": _f(score["monetary"]) or 0.0,
        "frequency": _f(score["frequency"]) or 0.0,
        "avg_arpu": _f(score["avg_arpu"]) or 0.0,
        "clv": contract if contract is not None else (_f(score["clv_simple"]) or 0.0),
        # share of the last two trend windows' spend that fell in the recent one: 0.5 = flat
        "spend_trend": recent / (recent + prior) if recent + prior > 0 else 0.0,
        "tenure_days": _f(score["tenure_days"]) or 0.0,
        "recency_days": _f(score["recency_days"]),
        "churn_risk": _f(score["churn_risk"]) or 0.0,
    }


def normalised(metric: str, value: float | None, cap: float) -> float:
    lower_is_better = METRICS[metric] == "lower"
    if value is None:
        return 0.0
    value = max(value, 0.0)
    share = (1.0 if value > 0 else 0.0) if cap <= 0 else min(value / cap, 1.0)
    return 1.0 - share if lower_is_better else share


def explain(score: Mapping[str, Any], caps: Mapping[str, float], config: ValueModelConfig) -> dict[str, Any]:
    """{index, criteria: [{key, weight, contribution, indicators: [{metric, value, cap, score, weight, contribution}]}]}."""
    values = metric_values(score)
    weights = config.global_weights()
    criteria, total = [], 0.0
    for criterion in config.criteria:
        rows, subtotal = [], 0.0
        for metric, weight in weights[criterion.key].items():
            cap = float(caps.get(metric, 0.0))
            s = normalised(metric, values[metric], cap)
            contribution = 100.0 * weight * s
            subtotal += contribution
            rows.append({"metric": metric, "value": values[metric], "cap": cap, "score": s, "weight": weight, "contribution": contribution})
        total += subtotal
        criteria.append(
            {"key": criterion.key, "weight": sum(weights[criterion.key].values()), "contribution": subtotal, "indicators": rows}
        )
    return {"index": total, "criteria": criteria}
