"""Shared set-up of the value tests: runs and score rows written directly, as scoring would write them.

The API tests do not run the scorer: they insert the rows it produces, so they test the wiring
(access, lookups, shapes) and stay independent of the SQL in scoring.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from service_hub.core.extensions import db
from service_hub.customers.models import Customer
from service_hub.value import index
from service_hub.value.config import DEFAULT_MODEL, ValueModelConfig
from service_hub.value.models import CustomerScore, ValueRun

AS_OF = date(2026, 6, 30)
CAPS = {
    "monetary": 5000.0,
    "frequency": 20.0,
    "avg_arpu": 300.0,
    "clv": 20000.0,
    "spend_trend": 1.0,
    "tenure_days": 2000.0,
    "recency_days": 365.0,
    "churn_risk": 100.0,
}

# A plausible scored customer; every column set, so index.explain can read the row before a flush.
SCORE_DEFAULTS: dict[str, Any] = {
    "recency_days": 40,
    "frequency": 5,
    "monetary": Decimal("1200.00"),
    "first_purchase_on": date(2024, 6, 1),
    "last_purchase_on": date(2026, 5, 21),
    "lifetime_purchases": 9,
    "r_score": 3,
    "f_score": 3,
    "m_score": 3,
    "segment8": "important_value",
    "segment10": "loyal_customers",
    "avg_arpu": Decimal("80.00"),
    "clv_simple": Decimal("2400.00"),
    "clv_contract": None,
    "tenure_days": 759,
    "spend_recent": Decimal("300.00"),
    "spend_prior": Decimal("350.00"),
    "purchases_recent": 2,
    "purchases_prior": 2,
    "complaints_recent": 0,
    "breaches_recent": 0,
    "lifecycle": "repeat",
    "churn_risk": 10.0,
    "churn_reasons": "",
    "tier": "normal",
    "tier_rule": "normal: no rule met",
}


@pytest.fixture
def make_run(app) -> Callable[..., ValueRun]:  # type: ignore[no-untyped-def]
    def _make(*, model_version: int = 0, caps: dict[str, float] | None = None, as_of: date = AS_OF, kind: str = "full") -> ValueRun:
        run = ValueRun(
            kind=kind,
            as_of=as_of,
            model_version=model_version,
            status="done",
            statistics={"caps": CAPS if caps is None else caps, "means": {}, "quintiles": {}},
        )
        db.session.add(run)
        db.session.flush()
        return run

    return _make


@pytest.fixture
def make_score(app, make_run) -> Callable[..., CustomerScore]:  # type: ignore[no-untyped-def]
    """make_score(customer, run=None, config=None, **columns): the row, its value_index computed by
    index.explain with the run's caps and the given config (default model), unless given."""

    def _make(customer: Customer, run: ValueRun | None = None, config: ValueModelConfig | None = None, **columns: Any) -> CustomerScore:
        run = run or make_run()
        values = {**SCORE_DEFAULTS, **columns}
        row = CustomerScore(customer_id=customer.id, run_id=run.id, as_of=run.as_of, **values)
        if "value_index" not in columns:
            mapping = {column.key: getattr(row, column.key) for column in CustomerScore.__table__.columns}
            row.value_index = index.explain(mapping, run.statistics["caps"], config or DEFAULT_MODEL)["index"]
        db.session.add(row)
        db.session.flush()
        return row

    return _make
