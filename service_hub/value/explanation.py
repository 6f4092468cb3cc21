"""Why a customer has their tier: scores, segments, CLV, churn reasons in words, the index breakdown.

The breakdown is recomputed from the stored row with the caps of the run that produced it and the
model version that run used, so it explains the stored index rather than what today's model would say.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.customers import operations as customer_operations
from service_hub.org.models import Agent
from service_hub.value import index, model_store
from service_hub.value.config import ValueModelConfig
from service_hub.value.models import CustomerScore, TierChange, ValueRun

TIER_HISTORY = 20

# (Chinese, English) labels of the codes scoring.py writes.
SEGMENT8_LABELS: dict[str, tuple[str, str]] = {
    "important_value": ("重要价值客户", "Important value"),
    "important_retain": ("重要保持客户", "Important retain"),
    "important_develop": ("重要发展客户", "Important develop"),
    "important_winback": ("重要挽留客户", "Important win-back"),
    "general_value": ("一般价值客户", "General value"),
    "general_retain": ("一般保持客户", "General retain"),
    "general_develop": ("一般发展客户", "General develop"),
    "general_winback": ("一般挽留客户", "General win-back"),
}
SEGMENT10_LABELS: dict[str, tuple[str, str]] = {
    "champions": ("冠军客户", "Champions"),
    "loyal_customers": ("忠诚客户", "Loyal customers"),
    "potential_loyalists": ("潜在忠诚客户", "Potential loyalists"),
    "new_customers": ("新客户", "New customers"),
    "promising": ("有潜力客户", "Promising"),
    "need_attention": ("需要关注客户", "Need attention"),
    "about_to_sleep": ("即将沉睡客户", "About to sleep"),
    "at_risk": ("有流失风险客户", "At risk"),
    "cant_lose": ("不能失去的客户", "Can't lose them"),
    "hibernating": ("休眠客户", "Hibernating"),
}
LIFECYCLE_LABELS: dict[str, tuple[str, str]] = {
    "potential": ("潜在客户", "Potential"),
    "first_purchase": ("首购客户", "First purchase"),
    "repeat": ("复购客户", "Repeat"),
    "loyal": ("忠诚客户", "Loyal"),
    "churned": ("流失客户", "Churned"),
}
CHURN_REASON_LABELS: dict[str, str] = {
    "recency_rising": "Recency rising",
    "frequency_falling": "Frequency falling",
    "spend_falling": "Spend falling",
    "complaint": "Complaints",
    "sla_breach": "SLA breaches",
}


def labelled(code: str | None, labels: dict[str, tuple[str, str]]) -> dict[str, str] | None:
    if code is None:
        return None
    zh, en = labels.get(code, (code, code))
    return {"code": code, "zh": zh, "en": en}


def reason_codes(stored: str | None) -> list[str]:
    return [c for c in (stored or "").split(",") if c]


def _money(value: Decimal | float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _usual_gap(score: CustomerScore) -> float | None:
    """Mean days between purchases over the customer's history; None with fewer than two."""
    if score.lifetime_purchases < 2 or score.first_purchase_on is None or score.last_purchase_on is None:
        return None
    span = (score.last_purchase_on - score.first_purchase_on).days
    # the same figure as scoring's gap_days; a zero gap (all purchases on one day) explains nothing
    return span / (score.lifetime_purchases - 1) if span > 0 else None


def _reason(code: str, score: CustomerScore, config: ValueModelConfig) -> dict[str, Any]:
    """One churn reason in words and figures, and the points the model gives it."""
    days = config.trend_days
    weight = config.churn_weights.get(code, 0.0)
    figures: dict[str, Any]
    if code == "recency_rising":
        gap = _usual_gap(score)
        recency = score.recency_days
        figures = {"recency_days": recency, "usual_gap_days": None if gap is None else round(gap, 1)}
        if recency is None:
            detail = "no purchase on record"
        elif gap:
            ratio = recency / gap
            figures["times_usual_gap"] = round(ratio, 1)
            detail = f"no purchase for {recency} days, {ratio:.1f} times the usual gap of {gap:.0f} days between purchases"
        else:  # one purchase (or all on one day): scoring compares with the trend window instead
            detail = f"no purchase for {recency} days, longer than the {days}-day trend window"
        points = weight
    elif code == "frequency_falling":
        figures = {"purchases_recent": score.purchases_recent, "purchases_prior": score.purchases_prior, "window_days": days}
        detail = (
            f"{_plural(score.purchases_recent, 'purchase', 'purchases')} in the last {days} days "
            f"against {score.purchases_prior} in the {days} days before"
        )
        points = weight
    elif code == "spend_falling":
        recent, prior = _money(score.spend_recent) or 0.0, _money(score.spend_prior) or 0.0
        figures = {"spend_recent": recent, "spend_prior": prior, "window_days": days}
        share = f" ({100 * recent / prior:.0f}% of it)" if prior > 0 else ""
        detail = f"spent {recent:,.2f} in the last {days} days against {prior:,.2f} in the {days} days before{share}"
        points = weight
    elif code == "complaint":
        counted = min(score.complaints_recent, config.complaint_cap)
        figures = {"complaints_recent": score.complaints_recent, "counted": counted, "window_days": days}
        detail = f"{_plural(score.complaints_recent, 'complaint', 'complaints')} in the last {days} days"
        points = weight * counted
    elif code == "sla_breach":
        counted = min(score.breaches_recent, config.breach_cap)
        figures = {"breaches_recent": score.breaches_recent, "counted": counted, "window_days": days}
        detail = f"{_plural(score.breaches_recent, 'SLA breach', 'SLA breaches')} on their tickets in the last {days} days"
        points = weight * counted
    else:  # a code this version does not know: show it rather than hide it
        figures, detail, points = {}, code, 0.0
    return {"code": code, "label": CHURN_REASON_LABELS.get(code, code), "detail": detail, "points": points, "figures": figures}


def score_mapping(score: CustomerScore) -> dict[str, Any]:
    return {column.key: getattr(score, column.key) for column in CustomerScore.__table__.columns}


def breakdown(score: CustomerScore) -> tuple[dict[str, Any], int | None, ValueModelConfig]:
    """index.explain() with the caps of the run that produced the row and that run's model."""
    run = db.session.get(ValueRun, score.run_id)
    version = run.model_version if run is not None else None
    config = model_store.model_of_version(version) if version is not None else model_store.active_model()[1]
    caps = ((run.statistics or {}).get("caps") or {}) if run is not None else {}
    return index.explain(score_mapping(score), caps, config), version, config


def _history(customer_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(TierChange).where(TierChange.customer_id == customer_id).order_by(TierChange.id.desc()).limit(TIER_HISTORY)
    )
    return [
        {
            "from_tier": r.from_tier,
            "to_tier": r.to_tier,
            "value_index": r.value_index,
            "rule": r.rule,
            "run_id": r.run_id,
            "changed_at": r.changed_at,
        }
        for r in rows
    ]


def explain_customer(agent: Agent, customer_id: int) -> dict[str, Any]:
    """The customer's value explained; 404 exactly when GET /api/v1/customers/<id> would be."""
    customer = customer_operations.get_visible_customer(agent, customer_id)
    score = db.session.get(CustomerScore, customer.id)
    base = {
        "customer_id": customer.id,
        "name": customer.name,
        "merged_into_id": customer.merged_into_id,
        "customer_url": f"/api/v1/customers/{customer.id}",
        "tier_history": _history(customer.id),
    }
    if score is None:
        return base | {"scored": False, "tier": customer.tier.value, "tier_rule": None}
    explained, version, config = breakdown(score)
    return base | {
        "scored": True,
        "run_id": score.run_id,
        "model_version": version,
        "as_of": score.as_of,
        "computed_at": score.computed_at,
        "tier": score.tier,
        "tier_rule": score.tier_rule,
        "rfm": {
            "window_days": config.window_days,
            "recency_days": score.recency_days,
            "frequency": score.frequency,
            "monetary": _money(score.monetary),
            "r_score": score.r_score,
            "f_score": score.f_score,
            "m_score": score.m_score,
            "first_purchase_on": score.first_purchase_on,
            "last_purchase_on": score.last_purchase_on,
            "lifetime_purchases": score.lifetime_purchases,
        },
        "segment8": labelled(score.segment8, SEGMENT8_LABELS),
        "segment10": labelled(score.segment10, SEGMENT10_LABELS),
        "clv": {"simple": _money(score.clv_simple), "contract": _money(score.clv_contract), "avg_arpu": _money(score.avg_arpu)},
        "lifecycle": labelled(score.lifecycle, LIFECYCLE_LABELS),
        "churn": {"risk": score.churn_risk, "reasons": [_reason(c, score, config) for c in reason_codes(score.churn_reasons)]},
        "value_index": score.value_index,
        "index": explained,
    }
