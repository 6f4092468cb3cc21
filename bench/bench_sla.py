"""SLA at scale: the "breaching in the next 15 minutes" query and one escalation run, at N open tickets.

    python -m bench.bench_sla [--tickets 1000000] [--database servicehub_bench_sla]

Builds its own database (real migrations, then set-based INSERT ... SELECT): N open tickets in 36
departments, each with a running resolution clock whose due time is spread over the next 30 days,
and 1 % of the clocks past their warning point (a backlog: the scheduler was down). Then:
  1. the breach-soon query the supervisor dashboard runs (tickets whose next_due_at falls in a
     15-minute window, the ix_tickets_next_due_at range), 300 times over random windows: p50/p95;
  2. one run_escalations() pass over the whole table (it must fire the 1 % and only them): seconds.
Targets (issue 4): p95 under 20 ms, a run under 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import func, select, text

from bench.common import DEFAULT_SERVER_URL, create_database, libpq_url, make_app, write_result

WINDOW = timedelta(minutes=15)


def generate(server_url: str, name: str, tickets: int, now: datetime) -> dict[str, float]:
    phases: dict[str, float] = {}
    with psycopg.connect(libpq_url(server_url, name), autocommit=True) as conn:

        def phase(label: str, sql: str, **params: object) -> None:
            started = time.perf_counter()
            conn.execute(sql, params)
            phases[label] = round(time.perf_counter() - started, 2)

        phase(
            "departments",
            "INSERT INTO departments (code, name, kind, functions, is_active, created_at) SELECT 'd' || g, 'Dept ' || g, 'department', '[]', true, now() FROM generate_series(1, 36) g",
        )
        phase(
            "customers",
            "INSERT INTO customers (name, tier, attributes, created_at, updated_at) SELECT 'c' || g, 'normal', '{}', now(), now() FROM generate_series(1, 100000) g",
        )
        phase(
            "tickets",
            """INSERT INTO tickets (number, subject, status, priority, channel, customer_id, department_id, tier, custom_fields, version,
                                    created_at, updated_at, resolution_due_at, next_due_at)
               SELECT 1000000 + g, 'bench', 'open', 1 + g %% 4, 'sms', 1 + g %% 100000, 1 + g %% 36, 'normal', '{}', 1,
                      %(now)s, %(now)s, %(now)s + interval '1 day' + (random() * interval '30 days'), NULL
               FROM generate_series(1, %(n)s) g""",
            now=now,
            n=tickets,
        )
        phase("next_due_at", "UPDATE tickets SET next_due_at = resolution_due_at")
        phase(
            "clocks",
            """INSERT INTO sla_clocks (ticket_id, kind, calendar_key, status, target_seconds, warning_share, business_seconds_used,
                                       started_at, running_since, due_at, warn_at, supervise_after_seconds)
               SELECT id, 'resolution', '24x7', 'running', 2592000, 0.75, 0, %(now)s, %(now)s, resolution_due_at,
                      CASE WHEN id %% 100 = 0 THEN %(now)s - interval '1 minute' ELSE resolution_due_at - interval '1 day' END, 3600
               FROM tickets""",
            now=now,
        )
        phase("vacuum analyze", "VACUUM ANALYZE")
    return phases


def breach_soon_query(app: object, now: datetime, runs: int) -> dict[str, float]:
    from service_hub.core.extensions import db
    from service_hub.tickets.models import ACTIVE_STATUSES, Ticket

    rng = random.Random(7)
    latencies: list[float] = []
    found: list[int] = []
    with app.app_context():  # type: ignore[attr-defined]
        for i in range(runs + 20):
            start = now + timedelta(seconds=rng.uniform(0, 29 * 86400))
            query = select(Ticket.id, Ticket.number, Ticket.next_due_at).where(
                Ticket.next_due_at >= start, Ticket.next_due_at < start + WINDOW, Ticket.status.in_(ACTIVE_STATUSES)
            )
            t0 = time.perf_counter()
            rows = db.session.execute(query.order_by(Ticket.next_due_at)).all()
            elapsed = (time.perf_counter() - t0) * 1000
            if i >= 20:  # warm-up
                latencies.append(elapsed)
                found.append(len(rows))
        plan = db.session.execute(text("EXPLAIN " + str(query.compile(db.engine, compile_kwargs={"literal_binds": True})))).scalars().all()
    q = statistics.quantiles(latencies, n=100)
    return {
        "p50_ms": round(q[49], 2),
        "p95_ms": round(q[94], 2),
        "p99_ms": round(q[98], 2),
        "rows_mean": round(statistics.mean(found), 1),
        "plan": plan,
    }


def escalation_run(app: object, now: datetime) -> dict[str, float]:
    from service_hub.casework.escalation import run_escalations
    from service_hub.casework.models import SlaClock
    from service_hub.core.extensions import db

    with app.app_context():  # type: ignore[attr-defined]
        expected = db.session.scalar(select(func.count()).where(SlaClock.warn_at <= now, SlaClock.warned_at.is_(None)))
        t0 = time.perf_counter()
        run = run_escalations(now)
        seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = run_escalations(now)
        idle = time.perf_counter() - t1
    assert run.warned == expected and again.warned == 0, (run, expected, again)
    return {"warned": run.warned, "run_s": round(seconds, 3), "idle_run_s": round(idle, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--database", default="servicehub_bench_sla")
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    now = datetime.now(UTC)
    create_database(args.server_url, args.database)
    app = make_app(args.server_url, args.database)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    t0 = time.perf_counter()
    phases = generate(args.server_url, args.database, args.tickets, now)
    result = {
        "tickets": args.tickets,
        "generate_s": round(time.perf_counter() - t0, 1),
        "phases_s": phases,
        "breach_soon": breach_soon_query(app, now, args.runs),
        "escalation": escalation_run(app, now),
    }
    path = write_result(f"sla-{args.tickets}", result)
    print(
        {k: v for k, v in result.items() if k != "breach_soon"}
        | {"breach_soon": {k: v for k, v in result["breach_soon"].items() if k != "plan"}}
    )
    print("\n".join(result["breach_soon"]["plan"]))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
