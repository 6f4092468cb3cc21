"""Customer value at scale: a full recomputation and an incremental one, time and peak memory.

    python -m bench.bench_value [--customers 1000000] [--transactions 10000000] [--database servicehub_bench_value]

Builds its own database (real migrations, then set-based INSERT ... SELECT): N customers, T
transactions spread over three years with skewed amounts and frequencies, monthly ARPU for a third
of the customers, and one full run. Then it measures, in this process:
  1. a full recomputation (value.scoring.recompute("full")): seconds per step and the process's
     peak RSS before and after (ru_maxrss; it does not fall, so the growth is the run's own);
  2. an incremental run after 10,000 customers get a new transaction each: seconds.
Targets (issue 5): full under 60 s, incremental under 2 s, memory flat as the data grows: run it
at two sizes (e.g. --customers 100000 --transactions 1000000 as well) and compare the RSS growth.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import psycopg

from bench.common import DEFAULT_SERVER_URL, create_database, libpq_url, make_app, write_result

AS_OF = date(2026, 11, 24)


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def generate(server_url: str, name: str, customers: int, transactions: int) -> dict[str, float]:
    phases: dict[str, float] = {}
    with psycopg.connect(libpq_url(server_url, name), autocommit=True) as conn:

        def phase(label: str, sql: str, **params: object) -> None:
            started = time.perf_counter()
            conn.execute(sql, params)
            phases[label] = round(time.perf_counter() - started, 1)

        phase(
            "customers",
            "INSERT INTO customers (name, tier, attributes, created_at, updated_at) "
            "SELECT 'c' || g, 'normal', '{}', now(), now() FROM generate_series(1, %(n)s) g",
            n=customers,
        )
        # Skewed: customer ids drawn with a power law (a few buy often), amounts log-normal-ish,
        # dates over three years, 3 % refunds.
        phase(
            "transactions",
            """INSERT INTO value_transactions (customer_id, dedupe_key, occurred_on, amount, product, channel, created_at)
               SELECT 1 + floor(%(n)s * power(random(), 1.6))::int,
                      md5(g::text),
                      DATE '2026-11-24' - floor(random() * 1095)::int,
                      CASE WHEN random() < 0.03 THEN -19.9 ELSE round((5 + exp(random() * 6))::numeric, 2) END,
                      'plan-' || (g %% 12), 'app', now()
               FROM generate_series(1, %(t)s) g""",
            n=customers,
            t=transactions,
        )
        phase(
            "revenue",
            """INSERT INTO value_monthly_revenue (customer_id, month, arpu, created_at)
               SELECT c, DATE '2026-09-01' + (m * interval '1 month'), round((20 + random() * 300)::numeric, 2), now()
               FROM generate_series(1, %(n)s, 3) c CROSS JOIN generate_series(0, 2) m""",
            n=customers,
        )
        phase("vacuum analyze", "VACUUM ANALYZE")
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--database", default="servicehub_bench_value")
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    args = parser.parse_args()

    app = make_app(args.server_url, args.database)
    phases: dict[str, float] = {}
    if not args.reuse:
        create_database(args.server_url, args.database)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        phases = generate(args.server_url, args.database, args.customers, args.transactions)

    from sqlalchemy import text

    from service_hub.core.extensions import db
    from service_hub.value.config import DEFAULT_MODEL
    from service_hub.value.scoring import recompute

    with app.app_context():
        rss_before = rss_mb()
        full = recompute("full", DEFAULT_MODEL, 0, as_of=AS_OF)
        rss_after_full = rss_mb()
        full_again = recompute("full", DEFAULT_MODEL, 0, as_of=AS_OF)  # warm cache, tier changes settled
        # 10,000 customers buy something today; the import marks them dirty.
        db.session.execute(
            text(
                """INSERT INTO value_transactions (customer_id, dedupe_key, occurred_on, amount, created_at)
                   SELECT c, 'inc-' || c || '-' || extract(epoch from now()), :as_of, 88, now()
                   FROM generate_series(1, CAST(:n AS integer) * :step, :step) c"""
            ),
            {"as_of": AS_OF, "n": args.changed, "step": max(args.customers // args.changed, 1)},
        )
        db.session.execute(
            text(
                "INSERT INTO value_dirty_customers (customer_id, marked_at) "
                "SELECT c, now() FROM generate_series(1, CAST(:n AS integer) * :step, :step) c ON CONFLICT DO NOTHING"
            ),
            {"n": args.changed, "step": max(args.customers // args.changed, 1)},
        )
        db.session.commit()
        incremental = recompute("incremental", DEFAULT_MODEL, 0, as_of=AS_OF)
        rss_end = rss_mb()

    result = {
        "customers": args.customers,
        "transactions": args.transactions,
        "generate_phases_s": phases,
        "full_s": round(full.seconds, 2),
        "full_steps_s": full.steps,
        "full_again_s": round(full_again.seconds, 2),
        "full_again_steps_s": full_again.steps,
        "full_tier_changes": full.tier_changes,
        "incremental_customers": incremental.customers,
        "incremental_s": round(incremental.seconds, 3),
        "incremental_steps_s": incremental.steps,
        "peak_rss_mb_before": rss_before,
        "peak_rss_mb_after_full": rss_after_full,
        "peak_rss_mb_end": rss_end,
    }
    path = write_result(f"value-{args.customers}", result)
    print(result)
    print(f"-> {path}")


if __name__ == "__main__":
    main()
