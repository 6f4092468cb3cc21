"""Measure the proposals in BENCHMARKS.md without editing service_hub/: before/after figures.

    python -m bench.experiments [--database servicehub_bench] [--skip-http]

1. The inbox statement in PostgreSQL at several depths (0 to 25,000 rows in): a keyset page
   should cost the same wherever it is.
2. CPU per request in-process (Flask test client): the app as it is vs with the auth_cache patch
   (bench/patches.py); the JSON of every response must not change.
3. HTTP (gunicorn, 2 workers, concurrency 8) through bench.patched_wsgi: as is, with
   plan_cache_mode = force_generic_plan set on the bench database (today the inbox statement is
   planned afresh on every execution), with auth_cache, and with both.

Writes bench/results/experiments.json.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from typing import Any

import psycopg
from sqlalchemy import event

from bench.common import DEFAULT_DATABASE, DEFAULT_REDIS_URL, DEFAULT_SERVER_URL, RESULTS_DIR, libpq_url, make_app, provenance, write_result
from bench.http_load import Server, clean_run, drive
from bench.patches import apply
from bench.scenario import INBOX_LIMIT, Scenario, cursor_at, prepare

DEPTHS = [0, 1_000, 10_000, 25_000]


# --- 1. the deep page in PostgreSQL --------------------------------------------------------------


def inbox_sql(app: Any, token: str, path: str) -> tuple[str, dict[str, Any]]:
    """Send the request in-process and return the ticket list statement it ran, with parameters."""
    from service_hub.core.extensions import db

    seen: list[tuple[str, dict[str, Any]]] = []

    def on_execute(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool) -> None:
        seen.append((sql, dict(params or {})))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        assert app.test_client().get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return next((sql, params) for sql, params in seen if "FROM tickets" in sql and "LIMIT" in sql)


def time_statement(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any], repeat: int = 15) -> dict[str, Any]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        conn.execute(sql, params).fetchall()  # type: ignore[arg-type]
        timings.append((time.perf_counter() - started) * 1000)
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall())  # type: ignore[arg-type]
    lines = plan.splitlines()
    at = next((i for i, line in enumerate(lines) if "Scan" in line and " on tickets" in line), None)
    scan = lines[at].strip() if at is not None else "?"
    # The scan node's own detail lines: up to the next plan node ("->").
    detail = [] if at is None else list(itertools.takewhile(lambda line: "->" not in line, lines[at + 1 :]))
    removed = next((line.split(":")[1].strip() for line in detail if "Rows Removed by Filter" in line), "0")
    hits = next((line.split("hit=")[1].split()[0] for line in detail if "Buffers: shared hit=" in line), "?")
    return {
        "median_ms": round(statistics.median(timings), 2),
        "p90_ms": round(sorted(timings)[int(0.9 * len(timings)) - 1], 2),
        "tickets_scan": scan.split("(")[0].strip(),
        "tickets_rows_removed_by_filter": int(removed),
        "tickets_scan_buffer_hits": int(hits) if hits.isdigit() else hits,
        "statement_buffer_hits": int(plan.split("shared hit=")[1].split()[0]),
    }


def deep_page_experiment(app: Any, scenario: Scenario, server_url: str, database: str) -> dict[str, Any]:
    """Median time of the inbox statement per depth, timed on a connection of its own."""
    from service_hub.core.extensions import db
    from service_hub.org.models import Agent

    results: dict[str, Any] = {}
    with psycopg.connect(libpq_url(server_url, database), autocommit=True) as conn:
        for depth in [d for d in DEPTHS if d < scenario.department_active_tickets - INBOX_LIMIT]:
            with app.app_context():
                cursor = cursor_at(db.session.get(Agent, scenario.agent_id), scenario.department_id, depth)[0] if depth else None
                db.session.remove()
            sql, params = inbox_sql(app, scenario.token, scenario.inbox_path(cursor))
            results[f"{depth:,} rows in"] = time_statement(conn, sql, params)
            print(f"[experiments] depth {depth:>6,}: {results[f'{depth:,} rows in']}", flush=True)
    return results


# --- 2. CPU per request in-process -------------------------------------------------------------


def cpu_experiment(server_url: str, database: str, scenario: Scenario, requests: int = 300) -> dict[str, Any]:
    """Wall and CPU ms per request through the test client, the app as is vs patched; same JSON."""
    paths = {
        "inbox first page": [scenario.inbox_path()],
        "inbox deep page": [scenario.deep_path()],
        "ticket detail": [f"/api/v1/tickets/{i}" for i in scenario.detail_ids],
    }
    headers = {"Authorization": f"Bearer {scenario.token}"}
    results: dict[str, Any] = {}
    bodies: dict[str, dict[str, Any]] = {}
    for variant in ("as is", "auth_cache"):
        if variant == "auth_cache":
            apply({"auth_cache"})  # from here on, this process runs patched
        client = make_app(server_url, database).test_client()
        for kind, urls in paths.items():
            for i in range(30):
                client.get(urls[i % len(urls)], headers=headers)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for i in range(requests):
                response = client.get(urls[i % len(urls)], headers=headers)
                assert response.status_code == 200
            results[f"{kind}: {variant}"] = {
                "wall_ms": round((time.perf_counter() - wall0) * 1000 / requests, 2),
                "cpu_ms": round((time.process_time() - cpu0) * 1000 / requests, 2),
            }
            body = client.get(urls[0], headers=headers).get_json()
            assert bodies.setdefault(kind, body) == body, f"{kind}: the JSON changed"
            print(f"[experiments] in-process {kind}, {variant}: {results[f'{kind}: {variant}']}", flush=True)
    return results


# --- 3. HTTP ---------------------------------------------------------------------------------------

# name -> (environment of the gunicorn app, PostgreSQL settings of the bench database meanwhile)
HTTP_VARIANTS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "as is": ({}, {}),
    "generic_plans": ({}, {"plan_cache_mode": "force_generic_plan"}),
    "auth_cache": ({"BENCH_PATCHES": "auth_cache"}, {}),
    "auth_cache + generic_plans": ({"BENCH_PATCHES": "auth_cache"}, {"plan_cache_mode": "force_generic_plan"}),
}


def database_settings(server_url: str, database: str, settings: dict[str, str], reset: bool = False) -> None:
    """ALTER DATABASE ... SET (new connections get it; gunicorn starts after) or RESET."""
    with psycopg.connect(libpq_url(server_url, "postgres"), autocommit=True) as conn:
        for name, value in settings.items():
            action = f"RESET {name}" if reset else f"SET {name} = {value}"
            conn.execute(f'ALTER DATABASE "{database}" {action}')  # type: ignore[arg-type]


def http_experiment(args: argparse.Namespace, scenario: Scenario) -> dict[str, Any]:
    quiet = {"max_busy_pct": args.quiet_busy_pct, "timeout_s": args.quiet_timeout}
    kinds = {
        "inbox_first_page": lambda n: [scenario.inbox_path()] * n,
        "inbox_deep_page": lambda n: [scenario.deep_path()] * n,
        "ticket_detail": lambda n: [f"/api/v1/tickets/{scenario.detail_ids[i % len(scenario.detail_ids)]}" for i in range(n)],
    }
    results: dict[str, Any] = {}
    for name, (env, settings) in HTTP_VARIANTS.items():
        log_path = RESULTS_DIR / f"experiments-gunicorn-{name.replace(' ', '').replace('+', '_')}.log"
        server = Server(args.workers, args.port, log_path, args.server_url, args.database, "bench.patched_wsgi:app", env)
        try:
            database_settings(args.server_url, args.database, settings)
            server.start(args.redis_url)
            for kind, make_paths in kinds.items():
                drive(server.port, scenario.token, make_paths(args.warmup), args.concurrency)
                run = clean_run(server, scenario.token, make_paths(args.requests), args.concurrency, quiet)
                results[f"{name}: {kind}"] = run
                print(f"[experiments] http {name} {kind}: p50 {run['p50_ms']} p95 {run['p95_ms']} rps {run['rps']}", flush=True)
        finally:
            server.stop()
            database_settings(args.server_url, args.database, settings, reset=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--deep-rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--port", type=int, default=5098)
    parser.add_argument("--quiet-busy-pct", type=float, default=10.0)
    parser.add_argument("--quiet-timeout", type=float, default=900.0)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    app = make_app(args.server_url, args.database)
    with app.app_context():
        scenario = prepare(deep_rows=args.deep_rows, detail_samples=200, token_name="bench experiments")
    result: dict[str, Any] = {"scenario": scenario.public(), "provenance": provenance(), "settings": vars(args)}
    result["inbox_statement_by_depth"] = deep_page_experiment(app, scenario, args.server_url, args.database)
    if not args.skip_http:  # before the in-process part patches this process
        result["http"] = http_experiment(args, scenario)
    result["in_process_cpu"] = cpu_experiment(args.server_url, args.database, scenario)
    print(f"[experiments] wrote {write_result('experiments', result)}")


if __name__ == "__main__":
    main()
