"""Scores every customer in set-based SQL: RFM, segments, CLV, lifecycle, churn risk, value index, tier.

A run never loads customers into Python; it is five statements whatever the population:
1. stage: one aggregate pass over transactions, revenue, complaints and SLA breaches gives each
   customer's raw figures and everything that depends on that customer alone (CLV, lifecycle,
   churn risk and its reasons) in a temporary table;
2. statistics: the population's means and 99th percentiles (a handful of rows back to Python);
3. scores: window functions rank the staged rows into quintiles, then segments, the AHP index and
   the tier follow, and the rows replace the customers' previous scores;
4. tiers: changed tiers go to the history and onto the customers (tickets snapshot them);
5. bookkeeping: quintile boundaries, tier counts, the dirty list.

Full run: everyone, ranked against each other. Incremental run: only customers with new records
(value_dirty_customers), placed against the quintile boundaries, means and caps of the last full
run, so their scores mean the same as everyone else's until the next full run re-ranks all.

Quintiles and ties (RFM "rank first"): among customers with at least one purchase, sort by the
dimension (recency descending, so the most recent come last; frequency and monetary ascending),
ties broken by customer id; the customer at position p of n scores ceil(5p / n). Equal values can
therefore straddle a boundary, and the quintiles have equal sizes (within one). An incremental
customer scores 1 + the number of last full run's boundaries (the largest value scoring 1, 2, 3,
4) that its value exceeds; a value equal to a boundary takes the lower score.

Thresholds of the 8-segment model: R is high when recency_days < threshold, F when frequency >
threshold, M when monetary > threshold; the threshold is the model's or the buyers' mean.
Frequency counts purchases (amount > 0) in the window; monetary is their net amount (refunds,
negative amounts, included); recency and tenure use all history up to the as-of date.
"""

# ruff: noqa: S608  (SQL is assembled from this module's constants and the model's validated settings; every value is bound)
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from service_hub.core.extensions import db
from service_hub.core.types import UTCDateTime, utcnow
from service_hub.value.config import METRICS, ValueModelConfig
from service_hub.value.models import CustomerScore, ValueRun

STAGE = "value_stage"
SCORES = "value_customer_scores"
SCORES_NEXT = "value_customer_scores_next"
# The 10-segment R x F grid (R and F quintile scores), first match wins.
SEGMENT10 = (
    ("champions", "r_score = 5 AND f_score >= 4"),
    ("loyal_customers", "r_score >= 3 AND f_score >= 4"),
    ("cant_lose", "r_score <= 2 AND f_score = 5"),
    ("at_risk", "r_score <= 2 AND f_score >= 3"),
    ("hibernating", "r_score <= 2"),
    ("need_attention", "r_score = 3 AND f_score = 3"),
    ("about_to_sleep", "r_score = 3"),
    ("potential_loyalists", "f_score >= 2"),
    ("new_customers", "r_score = 5"),
    ("promising", "r_score = 4"),
)
# (R high, F high, M high) -> the 8-segment model's code.
SEGMENT8 = {
    (1, 1, 1): "important_value",
    (0, 1, 1): "important_retain",
    (1, 0, 1): "important_develop",
    (0, 0, 1): "important_winback",
    (1, 1, 0): "general_value",
    (0, 1, 0): "general_retain",
    (1, 0, 0): "general_develop",
    (0, 0, 0): "general_winback",
}
# SQL for each indicator of config.METRICS over the staged columns.
METRIC_SQL = {
    "monetary": "monetary",
    "frequency": "frequency",
    "avg_arpu": "COALESCE(avg_arpu, 0)",
    "clv": "COALESCE(clv_contract, clv_simple)",
    "spend_trend": "(CASE WHEN spend_recent + spend_prior > 0 THEN 1.0 * spend_recent / (spend_recent + spend_prior) ELSE 0 END)",
    "tenure_days": "tenure_days",
    "recency_days": "recency_days",
    "churn_risk": "churn_risk",
}
assert set(METRIC_SQL) == set(METRICS)
DIMENSIONS = {"r": "recency_days", "f": "frequency", "m": "monetary"}
SCORE_COLUMNS = (
    "customer_id, run_id, as_of, recency_days, frequency, monetary, first_purchase_on, last_purchase_on, lifetime_purchases, "
    "r_score, f_score, m_score, segment8, segment10, avg_arpu, clv_simple, clv_contract, tenure_days, spend_recent, spend_prior, "
    "purchases_recent, purchases_prior, complaints_recent, breaches_recent, lifecycle, churn_risk, churn_reasons, value_index, "
    "tier, tier_rule, computed_at"
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunResult:
    run_id: int
    kind: str
    customers: int
    tier_changes: int
    seconds: float
    steps: dict[str, float]


class NoFullRun(RuntimeError):
    """An incremental run needs the statistics of a full run."""


class RunInProgress(RuntimeError):
    """Another run holds the lock; two runs would replace each other's scores."""


WORK_MEM = "256MB"
# pg_try_advisory_xact_lock key: "value run" (held until the run's transaction ends).
_RUN_LOCK = 0x76616C7565


def _days_between(dialect: str, later: str, earlier: str) -> str:
    if dialect == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _date_param(dialect: str, name: str) -> str:
    return f"CAST(:{name} AS DATE)" if dialect == "postgresql" else f":{name}"


def _stage_sql(dialect: str, incremental: bool) -> str:
    """Raw figures per customer plus what depends on that customer alone."""
    as_of = _date_param(dialect, "as_of")
    only_dirty = "AND customer_id IN (SELECT customer_id FROM value_run_customers)" if incremental else ""
    only_dirty_c = "AND c.id IN (SELECT customer_id FROM value_run_customers)" if incremental else ""
    only_dirty_t = "AND t.customer_id IN (SELECT customer_id FROM value_run_customers)" if incremental else ""
    recency = _days_between(dialect, as_of, "p.last_on")
    tenure = _days_between(dialect, as_of, "p.first_on")
    span = _days_between(dialect, "p.last_on", "p.first_on")
    return f"""
CREATE TEMPORARY TABLE {STAGE} AS
WITH purchases AS (
    SELECT customer_id,
           min(CASE WHEN amount > 0 THEN occurred_on END) AS first_on, max(CASE WHEN amount > 0 THEN occurred_on END) AS last_on,
           -- money is summed as float8 (a numeric sum's state is ten times larger, and spills at a
           -- million customers) and rounded back to cents
           sum(CASE WHEN amount > 0 THEN 1 ELSE 0 END) AS lifetime_purchases,
           sum(CASE WHEN occurred_on > :window_start AND amount > 0 THEN 1 ELSE 0 END) AS frequency,
           round(CAST(sum(CASE WHEN occurred_on > :window_start THEN CAST(amount AS DOUBLE PRECISION) ELSE 0 END) AS NUMERIC), 2) AS monetary,
           round(CAST(sum(CASE WHEN occurred_on > :recent_start THEN CAST(amount AS DOUBLE PRECISION) ELSE 0 END) AS NUMERIC), 2) AS spend_recent,
           round(CAST(sum(CASE WHEN occurred_on > :prior_start AND occurred_on <= :recent_start THEN CAST(amount AS DOUBLE PRECISION) ELSE 0 END) AS NUMERIC), 2) AS spend_prior,
           sum(CASE WHEN occurred_on > :recent_start AND amount > 0 THEN 1 ELSE 0 END) AS purchases_recent,
           sum(CASE WHEN occurred_on > :prior_start AND occurred_on <= :recent_start AND amount > 0 THEN 1 ELSE 0 END) AS purchases_prior
    FROM value_transactions
    WHERE occurred_on <= :as_of {only_dirty}
    GROUP BY customer_id
),
revenue AS (
    SELECT customer_id, avg(arpu) AS avg_arpu
    FROM value_monthly_revenue
    WHERE month > :arpu_start AND month <= :as_of {only_dirty}
    GROUP BY customer_id
),
complaints AS (
    SELECT t.customer_id, count(*) AS n
    FROM tickets t
    WHERE t.created_at > :recent_ts AND t.created_at <= :as_of_ts {only_dirty_t}
      AND (EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = 'complaint')
           OR EXISTS (SELECT 1 FROM cases k WHERE k.ticket_id = t.id AND k.definition_key LIKE 'complaint%'))
    GROUP BY t.customer_id
),
breaches AS (
    SELECT t.customer_id, count(*) AS n
    FROM sla_clocks s JOIN tickets t ON t.id = s.ticket_id
    WHERE s.breached_at > :recent_ts AND s.breached_at <= :as_of_ts {only_dirty_t}
    GROUP BY t.customer_id
),
raw AS (
    SELECT c.id AS customer_id,
           p.first_on, p.last_on,
           CASE WHEN p.last_on IS NULL THEN NULL ELSE {recency} END AS recency_days,
           CASE WHEN p.first_on IS NULL THEN 0 ELSE {tenure} END AS tenure_days,
           CASE WHEN p.lifetime_purchases > 1 THEN 1.0 * {span} / (p.lifetime_purchases - 1) END AS gap_days,
           COALESCE(p.lifetime_purchases, 0) AS lifetime_purchases,
           COALESCE(p.frequency, 0) AS frequency,
           COALESCE(p.monetary, 0) AS monetary,
           COALESCE(p.spend_recent, 0) AS spend_recent,
           COALESCE(p.spend_prior, 0) AS spend_prior,
           COALESCE(p.purchases_recent, 0) AS purchases_recent,
           COALESCE(p.purchases_prior, 0) AS purchases_prior,
           r.avg_arpu,
           COALESCE(cm.n, 0) AS complaints_recent,
           COALESCE(b.n, 0) AS breaches_recent
    FROM customers c
    LEFT JOIN purchases p ON p.customer_id = c.id
    LEFT JOIN revenue r ON r.customer_id = c.id
    LEFT JOIN complaints cm ON cm.customer_id = c.id
    LEFT JOIN breaches b ON b.customer_id = c.id
    WHERE c.merged_into_id IS NULL {only_dirty_c}
),
flagged AS (
    SELECT raw.*,
           CASE WHEN last_on IS NOT NULL AND ((gap_days IS NOT NULL AND recency_days > 2 * gap_days)
                                             OR (gap_days IS NULL AND recency_days > :trend_days)) THEN 1 ELSE 0 END AS recency_rising,
           CASE WHEN purchases_prior > 0 AND purchases_recent < :falling_share * purchases_prior THEN 1 ELSE 0 END AS frequency_falling,
           CASE WHEN spend_prior > 0 AND spend_recent < :falling_share * spend_prior THEN 1 ELSE 0 END AS spend_falling,
           CASE WHEN complaints_recent > :complaint_cap THEN :complaint_cap ELSE complaints_recent END AS complaints_counted,
           CASE WHEN breaches_recent > :breach_cap THEN :breach_cap ELSE breaches_recent END AS breaches_counted
    FROM raw
)
SELECT customer_id, first_on, last_on, recency_days, tenure_days, gap_days, lifetime_purchases, frequency, monetary,
       spend_recent, spend_prior, purchases_recent, purchases_prior, avg_arpu, complaints_recent, breaches_recent,
       monetary * :clv_simple_factor AS clv_simple,
       avg_arpu * :clv_contract_factor AS clv_contract,
       CASE WHEN last_on IS NULL THEN 'potential'
            WHEN recency_days > :churned_after_days THEN 'churned'
            WHEN lifetime_purchases = 1 THEN 'first_purchase'
            WHEN frequency >= :loyal_min_frequency THEN 'loyal'
            ELSE 'repeat' END AS lifecycle,
       1.0 * (recency_rising * :w_recency + frequency_falling * :w_frequency + spend_falling * :w_spend
              + complaints_counted * :w_complaint + breaches_counted * :w_breach) AS churn_risk,
       rtrim(CASE WHEN recency_rising = 1 THEN 'recency_rising,' ELSE '' END
             || CASE WHEN frequency_falling = 1 THEN 'frequency_falling,' ELSE '' END
             || CASE WHEN spend_falling = 1 THEN 'spend_falling,' ELSE '' END
             || CASE WHEN complaints_recent > 0 THEN 'complaint,' ELSE '' END
             || CASE WHEN breaches_recent > 0 THEN 'sla_breach,' ELSE '' END, ',') AS churn_reasons
FROM flagged
"""


def _stage_params(config: ValueModelConfig, as_of: date) -> dict[str, Any]:
    recent_start = as_of - timedelta(days=config.trend_days)
    end_of_day = datetime.combine(as_of + timedelta(days=1), dtime(0), UTC)
    r, d = config.monthly_retention, config.monthly_discount
    w = config.churn_weights
    return {
        "as_of": as_of,
        "window_start": as_of - timedelta(days=config.window_days),
        "recent_start": recent_start,
        "prior_start": recent_start - timedelta(days=config.trend_days),
        # ARPU averages the last three months the customer was billed in
        "arpu_start": (as_of.replace(day=1) - timedelta(days=62)).replace(day=1),
        "recent_ts": end_of_day - timedelta(days=config.trend_days),
        "as_of_ts": end_of_day,
        "trend_days": config.trend_days,
        "falling_share": config.falling_share,
        "complaint_cap": config.complaint_cap,
        "breach_cap": config.breach_cap,
        "clv_simple_factor": 365.0 / config.window_days * config.lifespan_years * config.margin,
        "clv_contract_factor": config.margin * r / (1 + d - r),
        "churned_after_days": config.churned_after_days,
        "loyal_min_frequency": config.loyal_min_frequency,
        "w_recency": w["recency_rising"],
        "w_frequency": w["frequency_falling"],
        "w_spend": w["spend_falling"],
        "w_complaint": w["complaint"],
        "w_breach": w["sla_breach"],
    }


def _statistics(conn: Connection, dialect: str, config: ValueModelConfig) -> dict[str, Any]:
    """Means of the buyers' R, F, M and each indicator's 99th percentile over everyone staged."""
    buyers = "last_on IS NOT NULL"
    means = conn.execute(text(f"SELECT count(*), avg(recency_days), avg(frequency), avg(monetary) FROM {STAGE} WHERE {buyers}")).one()
    total = conn.execute(text(f"SELECT count(*) FROM {STAGE}")).scalar_one()
    caps: dict[str, float] = {}
    if total:
        if dialect == "postgresql":
            cols = ", ".join(f"percentile_disc(0.99) WITHIN GROUP (ORDER BY {sql})" for sql in METRIC_SQL.values())
            row = conn.execute(text(f"SELECT {cols} FROM {STAGE}")).one()
            caps = {m: float(v or 0) for m, v in zip(METRIC_SQL, row, strict=True)}
        else:  # SQLite has no percentile_disc: the same row, found by position among the non-null values
            for metric, sql in METRIC_SQL.items():
                n = conn.execute(text(f"SELECT count({sql}) FROM {STAGE}")).scalar_one()
                offset = max((99 * n + 99) // 100 - 1, 0)  # ceil(0.99 n) - 1, in integers
                value = conn.execute(
                    text(f"SELECT {sql} AS v FROM {STAGE} WHERE {sql} IS NOT NULL ORDER BY v LIMIT 1 OFFSET {offset}")
                ).scalar()
                caps[metric] = float(value or 0)
    return {
        "customers": total,
        "buyers": means[0],
        "means": {"recency_days": float(means[1] or 0), "frequency": float(means[2] or 0), "monetary": float(means[3] or 0)},
        "caps": caps,
    }


def _thresholds(config: ValueModelConfig, stats: dict[str, Any]) -> dict[str, float]:
    means = stats["means"]
    return {
        "t_recency": config.recency_threshold if config.recency_threshold is not None else means["recency_days"],
        "t_frequency": config.frequency_threshold if config.frequency_threshold is not None else means["frequency"],
        "t_monetary": config.monetary_threshold if config.monetary_threshold is not None else means["monetary"],
    }


def _normalised_sql(metric: str, cap: float, param: str) -> str:
    value = METRIC_SQL[metric]
    share = (
        f"(CASE WHEN {value} > 0 THEN 1.0 ELSE 0.0 END)"
        if cap <= 0
        else f"(CASE WHEN {value} <= 0 THEN 0.0 WHEN {value} >= :{param} THEN 1.0 ELSE 1.0 * {value} / :{param} END)"
    )
    if METRICS[metric] == "lower":
        return f"(CASE WHEN {value} IS NULL THEN 0.0 ELSE 1.0 - {share} END)"
    return share


def _index_sql(config: ValueModelConfig, caps: dict[str, float]) -> tuple[str, dict[str, Any]]:
    terms, params = [], {}
    for criterion, indicators in config.global_weights().items():
        for metric, weight in indicators.items():
            key = f"{criterion}_{metric}"
            params[f"w_{key}"] = 100.0 * weight
            params[f"cap_{key}"] = caps.get(metric, 0.0)
            terms.append(f":w_{key} * {_normalised_sql(metric, caps.get(metric, 0.0), 'cap_' + key)}")
    return " + ".join(terms) or "0", params


def _tier_sql(config: ValueModelConfig) -> tuple[str, str, dict[str, Any]]:
    tiers, rules, params = [], [], {}
    for i, rule in enumerate(config.tier_rules):
        value = "value_index" if rule.basis == "index" else "COALESCE(avg_arpu, 0)"
        condition = f"{value} >= :tier_min_{i}"
        params[f"tier_min_{i}"] = rule.minimum
        params[f"tier_{i}"] = rule.tier
        params[f"tier_label_{i}"] = rule.label
        tiers.append(f"WHEN {condition} THEN :tier_{i}")
        rules.append(f"WHEN {condition} THEN :tier_label_{i}")
    params["tier_label_none"] = "normal: no rule met"
    tier = f"CASE {' '.join(tiers)} ELSE 'normal' END" if tiers else "'normal'"
    rule = f"CASE {' '.join(rules)} ELSE :tier_label_none END" if rules else ":tier_label_none"
    return tier, rule, params


def _quintile_sql(kind: str, dialect: str, boundaries: dict[str, list[float | None]] | None, n_buyers: int) -> dict[str, str]:
    """r/f/m score expressions: window ranks in a full run, the stored boundaries in an incremental one."""
    out = {}
    for dim, column in DIMENSIONS.items():
        if kind == "full":
            direction = "DESC" if dim == "r" else "ASC"
            rank = f"row_number() OVER (PARTITION BY (last_on IS NULL) ORDER BY {column} {direction}, customer_id)"
            out[dim] = f"CASE WHEN last_on IS NULL THEN NULL ELSE (5 * {rank} - 1) / {max(n_buyers, 1)} + 1 END"
        else:
            assert boundaries is not None
            better = "<" if dim == "r" else ">"  # boundaries are recency values for R: a smaller recency is better
            # An empty quintile (None) is beaten by every value.
            beats = " + ".join(
                "1" if boundaries[dim][k] is None else f"(CASE WHEN {column} {better} :b_{dim}{k} THEN 1 ELSE 0 END)" for k in range(4)
            )
            out[dim] = f"CASE WHEN last_on IS NULL THEN NULL ELSE 1 + {beats} END"
    return out


def _scores_sql(
    kind: str, dialect: str, config: ValueModelConfig, stats: dict[str, Any], boundaries: dict[str, list[float | None]] | None, target: str
) -> tuple[str, dict[str, Any]]:
    index_sql, params = _index_sql(config, stats["caps"])
    tier_sql, rule_sql, tier_params = _tier_sql(config)
    params.update(tier_params)
    params.update(_thresholds(config, stats))
    q = _quintile_sql(kind, dialect, boundaries, stats["buyers"])
    if boundaries is not None:
        params.update({f"b_{dim}{k}": v for dim, values in boundaries.items() for k, v in enumerate(values) if v is not None})
    seg8 = " ".join(
        f"WHEN {'' if r else 'NOT '}(recency_days < :t_recency) AND {'' if f else 'NOT '}(frequency > :t_frequency) "
        f"AND {'' if m else 'NOT '}(monetary > :t_monetary) THEN '{code}'"
        for (r, f, m), code in SEGMENT8.items()
    )
    seg10 = " ".join(f"WHEN {condition} THEN '{code}'" for code, condition in SEGMENT10)
    sql = f"""
INSERT INTO {target} ({SCORE_COLUMNS})
SELECT customer_id, :run_id, :as_of, recency_days, frequency, monetary, first_on, last_on, lifetime_purchases,
       r_score, f_score, m_score,
       CASE WHEN last_on IS NULL THEN NULL {seg8} END,
       CASE WHEN last_on IS NULL THEN NULL {seg10} END,
       avg_arpu, clv_simple, clv_contract, tenure_days, spend_recent, spend_prior, purchases_recent, purchases_prior,
       complaints_recent, breaches_recent, lifecycle, churn_risk, churn_reasons, value_index,
       {tier_sql}, {rule_sql}, :computed_at
FROM (
    SELECT {STAGE}.*, {q["r"]} AS r_score, {q["f"]} AS f_score, {q["m"]} AS m_score, {index_sql} AS value_index
    FROM {STAGE}
) ranked
"""
    return sql, params


def _swap_in_scores(conn: Connection) -> None:
    """Build-and-swap (PostgreSQL full runs): a million inserts into an indexed table cost several
    times what one index build afterwards does. Readers keep the old scores until the DROP, then
    wait for this transaction's commit, a few seconds."""
    table = CustomerScore.__table__
    pk = table.primary_key
    conn.execute(text(f"ALTER TABLE {SCORES_NEXT} ADD CONSTRAINT {pk.name}_next PRIMARY KEY ({', '.join(c.name for c in pk.columns)})"))
    for index in table.indexes:
        conn.execute(text(f"CREATE INDEX {index.name}_next ON {SCORES_NEXT} ({', '.join(c.name for c in index.columns)})"))
    conn.execute(text(f"DROP TABLE {SCORES}"))
    conn.execute(text(f"ALTER TABLE {SCORES_NEXT} RENAME TO {SCORES}"))
    conn.execute(text(f"ALTER TABLE {SCORES} RENAME CONSTRAINT {pk.name}_next TO {pk.name}"))
    for index in table.indexes:
        conn.execute(text(f"ALTER INDEX {index.name}_next RENAME TO {index.name}"))


def _boundaries(conn: Connection) -> dict[str, list[float | None]]:
    """The largest value (smallest recency) of each of quintiles 1..4, from the scores just written."""
    out: dict[str, list[float]] = {}
    for dim, column in DIMENSIONS.items():
        agg = "min" if dim == "r" else "max"
        rows = dict(
            conn.execute(
                text(
                    f"SELECT {dim}_score, {agg}({column}) FROM value_customer_scores WHERE {dim}_score IS NOT NULL AND {dim}_score < 5 GROUP BY {dim}_score"
                )
            ).all()
        )
        # An empty quintile (fewer than five buyers) takes the boundary below it; None below the lowest.
        values: list[float | None] = []
        last: float | None = None
        for k in range(1, 5):
            last = float(rows[k]) if rows.get(k) is not None else last
            values.append(last)
        out[dim] = values
    return out


def _record_tier_changes(conn: Connection, run_id: int, now: datetime, incremental: bool) -> int:
    only = "AND s.customer_id IN (SELECT customer_id FROM value_run_customers)" if incremental else ""
    changed = conn.execute(
        text(
            f"""INSERT INTO value_tier_changes (customer_id, from_tier, to_tier, value_index, rule, run_id, changed_at)
                SELECT s.customer_id, c.tier, s.tier, s.value_index, s.tier_rule, :run_id, :now
                FROM value_customer_scores s JOIN customers c ON c.id = s.customer_id
                WHERE s.tier <> c.tier {only}"""
        ).bindparams(bindparam("now", type_=UTCDateTime())),
        {"run_id": run_id, "now": now},
    ).rowcount
    conn.execute(
        text(
            f"""UPDATE customers SET tier = s.tier FROM value_customer_scores s
                WHERE s.customer_id = customers.id AND s.tier <> customers.tier {only}"""
        )
    )
    return int(changed or 0)


def _last_full_run() -> ValueRun | None:
    return db.session.scalars(
        db.select(ValueRun).where(ValueRun.kind == "full", ValueRun.status == "done").order_by(ValueRun.id.desc()).limit(1)
    ).first()


def recompute(
    kind: str, config: ValueModelConfig, model_version: int, as_of: date | None = None, progress: Progress | None = None
) -> RunResult:
    """Run a full or incremental computation in the current transaction and commit it.

    Everything, the run's row included, commits at the end or not at all; value.recompute records
    a failed run. On PostgreSQL a transaction-scoped advisory lock keeps runs from overlapping.
    """
    if kind not in ("full", "incremental"):
        raise ValueError(f"kind must be full or incremental, not {kind!r}")
    as_of = as_of or utcnow().date()
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    steps: dict[str, float] = {}
    base: ValueRun | None = None
    if kind == "incremental":
        base = _last_full_run()
        if base is None:
            raise NoFullRun("No full run has finished yet; run a full computation first.")
    on_postgresql = db.session.connection().dialect.name == "postgresql"  # SQLite has one writer at a time anyway
    if on_postgresql and not db.session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _RUN_LOCK}).scalar_one():
        raise RunInProgress("Another value computation is running; try again when it has finished.")
    if on_postgresql:
        # Sorting a million rows three times and grouping ten million by customer spill to disk
        # at the default 4 MB; this is the run's own transaction, so SET LOCAL ends with it.
        db.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        db.session.execute(text("SET LOCAL jit = off"))  # compiling these wide expressions costs seconds and saves less
    run = ValueRun(kind=kind, as_of=as_of, model_version=model_version, status="running")
    db.session.add(run)
    db.session.flush()
    conn = db.session.connection()
    dialect = conn.dialect.name
    now = utcnow()

    def step(name: str, since: float) -> float:
        steps[name] = round(time.perf_counter() - since, 3)
        say(f"{name}: {steps[name]:.2f} s")
        return time.perf_counter()

    t = time.perf_counter()
    conn.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
    conn.execute(text("DROP TABLE IF EXISTS value_run_customers"))
    incremental = kind == "incremental"
    # The dirty list is fixed now; customers marked again during the run stay dirty for the next one.
    conn.execute(text("CREATE TEMPORARY TABLE value_run_customers AS SELECT customer_id, marked_at FROM value_dirty_customers"))
    if dialect == "postgresql":
        conn.execute(text("ANALYZE value_run_customers"))  # temporary tables have no statistics until analysed
    conn.execute(
        text(_stage_sql(dialect, incremental)).bindparams(
            bindparam("recent_ts", type_=UTCDateTime()), bindparam("as_of_ts", type_=UTCDateTime())
        ),
        _stage_params(config, as_of),
    )
    if dialect == "postgresql":
        conn.execute(text(f"ANALYZE {STAGE}"))
    t = step("stage", t)

    if incremental:
        assert base is not None
        stats = {**base.statistics, "customers": conn.execute(text(f"SELECT count(*) FROM {STAGE}")).scalar_one()}
        boundaries = base.statistics["boundaries"]
    else:
        stats, boundaries = _statistics(conn, dialect, config), None
    t = step("statistics", t)

    swap = dialect == "postgresql" and not incremental
    if swap:
        conn.execute(text(f"DROP TABLE IF EXISTS {SCORES_NEXT}"))
        conn.execute(text(f"CREATE TABLE {SCORES_NEXT} (LIKE {SCORES} INCLUDING DEFAULTS)"))
    elif incremental:
        conn.execute(text(f"DELETE FROM {SCORES} WHERE customer_id IN (SELECT customer_id FROM value_run_customers)"))
    else:
        conn.execute(text(f"DELETE FROM {SCORES}"))
    sql, params = _scores_sql(kind, dialect, config, stats, boundaries, SCORES_NEXT if swap else SCORES)
    conn.execute(
        text(sql).bindparams(bindparam("computed_at", type_=UTCDateTime())),
        {**params, "run_id": run.id, "as_of": as_of, "computed_at": now},
    )
    if swap:
        _swap_in_scores(conn)
    t = step("scores", t)

    changes = _record_tier_changes(conn, run.id, now, incremental)
    t = step("tiers", t)

    conn.execute(
        text(
            """DELETE FROM value_dirty_customers WHERE EXISTS (SELECT 1 FROM value_run_customers r
               WHERE r.customer_id = value_dirty_customers.customer_id AND r.marked_at = value_dirty_customers.marked_at)"""
        )
    )
    conn.execute(text("DROP TABLE value_run_customers"))
    if not incremental:
        stats["boundaries"] = _boundaries(conn)
        conn.execute(
            text(
                "INSERT INTO value_tier_snapshots (run_id, as_of, tier, customers) "
                "SELECT :run_id, :as_of, tier, count(*) FROM value_customer_scores GROUP BY tier"
            ),
            {"run_id": run.id, "as_of": as_of},
        )
    conn.execute(text(f"DROP TABLE {STAGE}"))
    step("bookkeeping", t)

    seconds = time.perf_counter() - started
    run.statistics = {k: v for k, v in stats.items() if k != "customers"}
    run.customers = int(stats["customers"])
    run.tier_changes = changes
    run.status = "done"
    run.finished_at = utcnow()
    run.seconds = round(seconds, 3)
    db.session.commit()
    return RunResult(run.id, kind, run.customers, changes, seconds, steps)
