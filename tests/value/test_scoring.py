"""Scores from the SQL of value.scoring against a hand-computed fixture and an independent pandas computation."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, select

from service_hub.core.extensions import db
from service_hub.customers.models import Customer, Tier
from service_hub.tickets.models import TicketTag
from service_hub.value import scoring
from service_hub.value.config import DEFAULT_MODEL, TierRule, ValueModelConfig
from service_hub.value.index import explain
from service_hub.value.models import CustomerScore, DirtyCustomer, MonthlyRevenue, TierChange, TierSnapshot, Transaction, ValueRun
from tests.factories import CustomerFactory, TicketFactory

AS_OF = date(2026, 11, 24)


def _txn(customer: Customer, on: date, amount: float, key: str) -> Transaction:
    return Transaction(customer_id=customer.id, dedupe_key=key, occurred_on=on, amount=Decimal(str(amount)))


def _scores() -> dict[int, CustomerScore]:
    return {s.customer_id: s for s in db.session.scalars(select(CustomerScore))}


@pytest.fixture
def five(app, world):
    """A..E as in the docstring of test_hand_computed_fixture."""
    a, b, c, d, e = (CustomerFactory(name=n) for n in "ABCDE")
    db.session.flush()
    db.session.add_all(
        [
            _txn(a, date(2026, 11, 20), 100, "a1"),
            _txn(a, date(2026, 10, 1), 200, "a2"),
            _txn(a, date(2026, 6, 1), 300, "a3"),
            _txn(b, date(2026, 5, 1), 50, "b1"),
            _txn(c, date(2026, 11, 1), 1000, "c1"),
            _txn(e, date(2024, 1, 1), 500, "e1"),
        ]
        + [MonthlyRevenue(customer_id=a.id, month=date(2026, m, 1), arpu=Decimal("100")) for m in (9, 10, 11)]
    )
    complaint = TicketFactory(department=world.dept_a, customer=c, created_at=datetime(2026, 11, 10, tzinfo=UTC))
    db.session.add(TicketTag(ticket_id=complaint.id, tag="complaint"))
    db.session.commit()
    return a, b, c, d, e


def test_hand_computed_fixture(five):
    """A: 3 purchases (4, 54 and 176 days ago) worth 600; B: one of 50, 207 days ago; C: one of 1,000,
    23 days ago, and a complaint; D: nothing; E: one of 500 in 2024, outside the 365-day window.

    Buyers A, B, C, E (n = 4) score ceil(5p/4) = 2, 3, 4, 5 by position p. Recency descending:
    E, B, C, A. Frequency ascending: E (0), B (1), C (1; tie broken by id), A (3). Monetary: E (0),
    B (50), A (600), C (1,000). Means: recency 323, frequency 1.25, monetary 412.5.
    """
    a, b, c, d, e = five
    result = scoring.recompute("full", DEFAULT_MODEL, 0, as_of=AS_OF)
    assert result.customers == Customer.query.count()
    s = _scores()
    assert [s[x.id].recency_days for x in (a, b, c, e)] == [4, 207, 23, 1058]
    assert s[d.id].recency_days is None and s[d.id].r_score is None and s[d.id].segment8 is None
    assert [(s[x.id].frequency, s[x.id].monetary) for x in (a, b, c, e)] == [(3, 600), (1, 50), (1, 1000), (0, 0)]
    assert [(s[x.id].r_score, s[x.id].f_score, s[x.id].m_score) for x in (a, b, c, e)] == [(5, 5, 4), (3, 3, 3), (4, 4, 5), (2, 2, 2)]
    # recency < 323, frequency > 1.25, monetary > 412.5
    assert [s[x.id].segment8 for x in (a, b, c, e)] == ["important_value", "general_develop", "important_develop", "general_winback"]
    assert [s[x.id].segment10 for x in (a, b, c, e)] == ["champions", "need_attention", "loyal_customers", "hibernating"]
    assert [s[x.id].lifecycle for x in (a, b, c, d, e)] == ["repeat", "churned", "first_purchase", "potential", "churned"]
    # CLV simple = monetary x 365/365 x 3 years x 0.3; contract = 100 x 0.3 x 0.97 / (1 + 0.01 - 0.97)
    assert float(s[a.id].clv_simple) == pytest.approx(540) and float(s[c.id].clv_simple) == pytest.approx(900)
    assert float(s[a.id].clv_contract) == pytest.approx(727.5) and s[b.id].clv_contract is None
    # A: gap 86 days, last purchase 4 days ago; recent window 300 vs prior 300: no risk.
    # B and E: single purchase longer ago than the 90-day trend window; C: one complaint.
    assert [(s[x.id].churn_risk, s[x.id].churn_reasons) for x in (a, b, c, d, e)] == [
        (0, ""),
        (30, "recency_rising"),
        (10, "complaint"),
        (0, ""),
        (30, "recency_rising"),
    ]
    assert (s[a.id].spend_recent, s[a.id].spend_prior, s[a.id].purchases_recent, s[a.id].purchases_prior) == (300, 300, 2, 1)
    run = db.session.get(ValueRun, result.run_id)
    assert run.statistics["means"] == pytest.approx({"recency_days": 323.0, "frequency": 1.25, "monetary": 412.5})


def test_index_in_sql_equals_the_python_explanation(five):
    result = scoring.recompute("full", DEFAULT_MODEL, 0, as_of=AS_OF)
    caps = db.session.get(ValueRun, result.run_id).statistics["caps"]
    assert caps["monetary"] == 1000 and caps["recency_days"] == 1058  # the 99th percentile of five is the largest
    for score in _scores().values():
        row = {c.key: getattr(score, c.key) for c in CustomerScore.__table__.columns}
        assert score.value_index == pytest.approx(explain(row, caps, DEFAULT_MODEL)["index"], abs=1e-6)
    indices = {s.customer_id: s.value_index for s in _scores().values()}
    a, _b, c, _d, e = five
    assert indices[a.id] == max(indices.values()) and indices[c.id] > indices[e.id]


def test_tiers_follow_the_rules_and_changes_are_kept(five):
    a, b, c, d, e = five
    config = ValueModelConfig(tier_rules=(TierRule("gold", "index", 55), TierRule("vip", "arpu", 50)))
    scoring.recompute("full", config, 1, as_of=AS_OF)
    s = _scores()
    for x in (a, b, c, d, e):
        db.session.refresh(x)
        expected = "gold" if s[x.id].value_index >= 55 else "vip" if x is a else "normal"
        assert (x.tier.value, s[x.id].tier) == (expected, expected)
    assert s[a.id].tier_rule in {"gold: index >= 55", "vip: arpu >= 50"}
    changes = db.session.scalars(select(TierChange).order_by(TierChange.id)).all()
    assert {ch.customer_id for ch in changes} == {x.id for x in (a, b, c, d, e) if s[x.id].tier != "normal"}
    assert all(ch.from_tier == "normal" for ch in changes)
    # The same run again changes nothing and records nothing.
    again = scoring.recompute("full", config, 1, as_of=AS_OF)
    assert again.tier_changes == 0 and db.session.scalar(select(db.func.count(TierChange.id))) == len(changes)
    snapshot = {r.tier: r.customers for r in db.session.scalars(select(TierSnapshot).where(TierSnapshot.run_id == again.run_id))}
    assert sum(snapshot.values()) == Customer.query.count()


def test_incremental_run_scores_only_dirty_customers_against_the_full_run(five):
    *_, d, _e = five
    scoring.recompute("full", DEFAULT_MODEL, 0, as_of=AS_OF)
    before = {k: (v.run_id, v.r_score, v.frequency) for k, v in _scores().items()}
    db.session.add(_txn(d, date(2026, 11, 23), 2000, "d1"))
    db.session.add(DirtyCustomer(customer_id=d.id))
    db.session.commit()
    result = scoring.recompute("incremental", DEFAULT_MODEL, 0, as_of=AS_OF)
    assert result.customers == 1
    s = _scores()
    # D: recency 1 beats every recency boundary (E 1058, B 207, C 23, A 4 are quintiles 2..5), monetary 2,000 beats all.
    assert (s[d.id].recency_days, s[d.id].r_score, s[d.id].m_score, s[d.id].run_id) == (1, 5, 5, result.run_id)
    assert all((v.run_id, v.r_score, v.frequency) == before[k] for k, v in s.items() if k != d.id)
    assert db.session.scalar(select(db.func.count()).select_from(DirtyCustomer)) == 0
    assert scoring.recompute("incremental", DEFAULT_MODEL, 0, as_of=AS_OF).customers == 0


def test_incremental_needs_a_full_run(app):
    with pytest.raises(scoring.NoFullRun):
        scoring.recompute("incremental", DEFAULT_MODEL, 0, as_of=AS_OF)


def test_merged_customers_are_not_scored(five):
    a, b, *_ = five
    b.merged_into_id = a.id
    db.session.commit()
    scoring.recompute("full", DEFAULT_MODEL, 0, as_of=AS_OF)
    assert b.id not in _scores()


# --- the independent computation -------------------------------------------------------------


def _pandas_scores(txns: pd.DataFrame, customer_ids: list[int], config: ValueModelConfig) -> pd.DataFrame:
    """The documented model, written again with pandas and numpy: no code shared with value.scoring."""
    as_of = pd.Timestamp(AS_OF)
    t = txns[txns.on <= as_of]
    window = t[t.on > as_of - pd.Timedelta(days=config.window_days)]
    recent_start = as_of - pd.Timedelta(days=config.trend_days)
    prior_start = recent_start - pd.Timedelta(days=config.trend_days)
    buys = t[t.amount > 0]
    df = pd.DataFrame(index=pd.Index(customer_ids, name="customer_id"))
    df["last_on"] = buys.groupby("customer_id").on.max()
    df["first_on"] = buys.groupby("customer_id").on.min()
    df["lifetime"] = buys.groupby("customer_id").size()
    df["frequency"] = window[window.amount > 0].groupby("customer_id").size()
    df["monetary"] = window.groupby("customer_id").amount.sum().round(2)  # money: exact cents, not float noise
    r, p = t[t.on > recent_start], t[(t.on > prior_start) & (t.on <= recent_start)]
    df["spend_recent"], df["spend_prior"] = r.groupby("customer_id").amount.sum().round(2), p.groupby("customer_id").amount.sum().round(2)
    df["n_recent"] = r[r.amount > 0].groupby("customer_id").size()
    df["n_prior"] = p[p.amount > 0].groupby("customer_id").size()
    df = df.fillna({"lifetime": 0, "frequency": 0, "monetary": 0.0, "spend_recent": 0.0, "spend_prior": 0.0, "n_recent": 0, "n_prior": 0})
    buyer = df.last_on.notna()
    df["recency"] = (as_of - df.last_on).dt.days
    df["tenure"] = (as_of - df.first_on).dt.days.fillna(0)
    n = int(buyer.sum())
    for dim, key in (("r", -df.recency), ("f", df.frequency), ("m", df.monetary)):
        order = pd.DataFrame({"key": key[buyer], "id": df.index[buyer]}).sort_values(["key", "id"])
        position = pd.Series(np.arange(1, n + 1), index=order.id)
        df[f"{dim}_score"] = np.ceil(5 * position / n).reindex(df.index)
    high_r = df.recency < df.recency[buyer].mean()
    high_f, high_m = df.frequency > df.frequency[buyer].mean(), df.monetary > df.monetary[buyer].mean()
    names = {
        (1, 1, 1): "important_value",
        (0, 1, 1): "important_retain",
        (1, 0, 1): "important_develop",
        (0, 0, 1): "important_winback",
        (1, 1, 0): "general_value",
        (0, 1, 0): "general_retain",
        (1, 0, 0): "general_develop",
        (0, 0, 0): "general_winback",
    }
    df["segment8"] = [names[(int(a), int(b), int(c))] if ok else None for a, b, c, ok in zip(high_r, high_f, high_m, buyer, strict=True)]
    grid = {  # the 10-segment R x F grid written out cell by cell
        **{(rr, ff): "hibernating" for rr in (1, 2) for ff in (1, 2)},
        **{(rr, ff): "at_risk" for rr in (1, 2) for ff in (3, 4)},
        **{(rr, 5): "cant_lose" for rr in (1, 2)},
        (3, 1): "about_to_sleep",
        (3, 2): "about_to_sleep",
        (3, 3): "need_attention",
        **{(rr, ff): "loyal_customers" for rr in (3, 4) for ff in (4, 5)},
        (4, 1): "promising",
        (5, 1): "new_customers",
        **{(rr, ff): "potential_loyalists" for rr in (4, 5) for ff in (2, 3)},
        (5, 4): "champions",
        (5, 5): "champions",
    }
    df["segment10"] = [
        grid[(int(a), int(b))] if ok else None for a, b, ok in zip(df.r_score.fillna(0), df.f_score.fillna(0), buyer, strict=True)
    ]
    df["clv_simple"] = df.monetary * 365 / config.window_days * config.lifespan_years * config.margin
    gap = (df.last_on - df.first_on).dt.days / (df.lifetime - 1).where(df.lifetime > 1)
    rising = buyer & ((gap.notna() & (df.recency > 2 * gap)) | (gap.isna() & (df.recency > config.trend_days)))
    f_fall = (df.n_prior > 0) & (df.n_recent < config.falling_share * df.n_prior)
    s_fall = (df.spend_prior > 0) & (df.spend_recent < config.falling_share * df.spend_prior)
    w = config.churn_weights
    df["churn_risk"] = rising * w["recency_rising"] + f_fall * w["frequency_falling"] + s_fall * w["spend_falling"]
    df["lifecycle"] = np.select(
        [~buyer, df.recency > config.churned_after_days, df.lifetime == 1, df.frequency >= config.loyal_min_frequency],
        ["potential", "churned", "first_purchase", "loyal"],
        "repeat",
    )
    # The index: eigenvector weights from numpy, caps by numpy's inverted-CDF percentile.
    metrics = {
        "monetary": (df.monetary, False),
        "frequency": (df.frequency, False),
        "avg_arpu": (pd.Series(0.0, index=df.index), False),
        "clv": (df.clv_simple, False),
        "spend_trend": ((df.spend_recent / (df.spend_recent + df.spend_prior)).where(df.spend_recent + df.spend_prior > 0, 0.0), False),
        "tenure_days": (df.tenure, False),
        "recency_days": (df.recency, True),
        "churn_risk": (df.churn_risk, True),
    }

    def eigen_weights(matrix):
        values, vectors = np.linalg.eig(np.array(matrix, dtype=float))
        v = np.abs(np.real(vectors[:, np.argmax(np.real(values))]))
        return v / v.sum()

    top = eigen_weights(config.criteria_matrix)
    index = pd.Series(0.0, index=df.index)
    for cw, criterion in zip(top, config.criteria, strict=True):
        for lw, metric in zip(eigen_weights(criterion.matrix), criterion.indicators, strict=True):
            values, lower = metrics[metric]
            cap = float(np.percentile(values.dropna(), 99, method="inverted_cdf"))
            share = (values.clip(lower=0) / cap).clip(upper=1) if cap > 0 else (values > 0).astype(float)
            score = (1 - share).fillna(0) if lower else share
            index += 100 * cw * lw * score
    df["value_index"] = index
    return df


def test_scores_match_an_independent_pandas_computation_on_10000_customers(app, backend):
    rng = random.Random(20261124)
    n_customers = 10_000
    db.session.execute(insert(Customer), [{"name": f"Random {i}", "tier": Tier.NORMAL, "attributes": {}} for i in range(n_customers)])
    ids = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
    rows = []
    for cid in ids:
        if rng.random() < 0.15:
            continue  # never bought
        for _ in range(rng.choice((1, 1, 2, 3, 5, 8, 13))):
            on = AS_OF - timedelta(days=rng.choice((rng.randrange(0, 60), rng.randrange(0, 900))))
            amount = rng.choice((9.9, 19.9, 29.9, 58, 88, 128, 188, 388, -19.9))  # ties on purpose, some refunds
            rows.append({"customer_id": cid, "dedupe_key": f"r{len(rows)}", "occurred_on": on, "amount": Decimal(str(amount))})
    db.session.execute(insert(Transaction), rows)
    db.session.commit()

    scoring.recompute("full", DEFAULT_MODEL, 0, as_of=AS_OF)

    txns = pd.DataFrame(rows).assign(on=lambda f: pd.to_datetime(f.occurred_on), amount=lambda f: f.amount.astype(float))
    expected = _pandas_scores(txns, ids, DEFAULT_MODEL)
    got = pd.DataFrame(
        [
            {
                "customer_id": s.customer_id,
                "r_score": s.r_score,
                "f_score": s.f_score,
                "m_score": s.m_score,
                "segment8": s.segment8,
                "segment10": s.segment10,
                "frequency": s.frequency,
                "monetary": float(s.monetary),
                "recency": s.recency_days,
                "clv_simple": float(s.clv_simple),
                "churn_risk": s.churn_risk,
                "lifecycle": s.lifecycle,
                "value_index": s.value_index,
            }
            for s in db.session.scalars(select(CustomerScore))
        ]
    ).set_index("customer_id")
    assert len(got) == n_customers
    got = got.loc[expected.index]
    for column in ("r_score", "f_score", "m_score", "frequency", "recency"):
        pd.testing.assert_series_equal(got[column].astype(float), expected[column].astype(float), check_names=False)
    for column in ("segment8", "segment10", "lifecycle"):
        assert (got[column].fillna("-") == expected[column].fillna("-")).all(), column
    for column in ("monetary", "clv_simple", "churn_risk", "value_index"):
        np.testing.assert_allclose(got[column], expected[column], atol=0.011, err_msg=column)
    # Equal-sized quintiles: each score holds a fifth of the buyers, within one.
    buyers = int(expected.last_on.notna().sum())
    assert set(got.r_score.value_counts().tolist()) <= {buyers // 5, buyers // 5 + 1}
