"""EXPLAIN (ANALYZE, BUFFERS) of every SQL statement the three benchmarked API requests run.

    python -m bench.explain [--database servicehub_bench] [--deep-rows 10000]

The requests go through the real app in-process (Flask test client, bearer token), and an engine
event captures each statement with its bound parameters exactly as psycopg receives them. Each
statement is then explained twice on a separate connection:

* custom plan: the statement with its parameter values (what the first executions get);
* generic plan: PREPAREd with $n placeholders under plan_cache_mode = force_generic_plan (psycopg
  prepares a statement after 5 executions on a connection, and PostgreSQL may then switch to a
  generic plan, so this is the plan a busy server can end up using).

A Seq Scan on tickets, messages, customers, contact_identities or ticket_tags is a failure.
Writes bench/results/explain.txt (the plans) and explain.json (the summary).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import event

from bench.common import DEFAULT_DATABASE, DEFAULT_SERVER_URL, RESULTS_DIR, libpq_url, make_app, provenance, write_result
from bench.scenario import Scenario, prepare

BIG_TABLES = ("tickets", "messages", "customers", "contact_identities", "ticket_tags", "audit_events")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass
class Captured:
    statement: str
    parameters: dict[str, Any]
    plans: dict[str, str] = field(default_factory=dict)  # "custom" / "generic" -> EXPLAIN text

    def tables(self) -> list[str]:
        return sorted(set(re.findall(r"(?:FROM|JOIN)\s+(\w+)", self.statement)))


def capture_requests(app: Any, scenario: Scenario) -> dict[str, list[Captured]]:
    """Run each benchmarked request in-process and keep the SQL of the last of three runs."""
    from service_hub.core.extensions import db

    requests = {
        "inbox first page": scenario.inbox_path(),
        f"inbox deep page ({scenario.deep_rows:,} rows in)": scenario.deep_path(),
        "ticket detail": f"/api/v1/tickets/{scenario.detail_ids[0]}",
    }
    headers = {"Authorization": f"Bearer {scenario.token}"}
    client = app.test_client()
    captured: dict[str, list[Captured]] = {}
    with app.app_context():
        engine = db.engine
    for name, path in requests.items():
        for _ in range(2):  # warm caches (ORM compiled-statement cache, PostgreSQL buffers)
            assert client.get(path, headers=headers).status_code == 200
        statements: list[Captured] = []

        def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
            statements.append(Captured(statement, dict(parameters or {})))  # noqa: B023  (listener removed below)

        event.listen(engine, "before_cursor_execute", on_execute)
        try:
            response = client.get(path, headers=headers)
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
        assert response.status_code == 200, response.get_json()
        captured[f"{name}: GET {path}"] = statements
    return captured


def explain_custom(conn: psycopg.Connection[Any], item: Captured) -> str:
    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + item.statement, item.parameters).fetchall()  # type: ignore[arg-type]
    return "\n".join(r[0] for r in rows)


def explain_generic(conn: psycopg.Connection[Any], item: Captured) -> str:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = PLACEHOLDER.sub(number, item.statement).replace("%%", "%")
    conn.execute(f"PREPARE bench_generic AS {prepared}")  # type: ignore[arg-type]
    args = sql.SQL(", ").join(sql.Literal(item.parameters[n]) for n in names)
    execute = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_generic") + (sql.SQL("({})").format(args) if names else sql.SQL(""))
    conn.execute("SET plan_cache_mode = force_generic_plan")
    try:
        rows = conn.execute(execute).fetchall()
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute("DEALLOCATE bench_generic")
    return "\n".join(r[0] for r in rows)


def seq_scans(plan: str) -> list[str]:
    return sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))


def execution_ms(plan: str) -> float:
    match = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(match.group(1)) if match else float("nan")


def render(captured: dict[str, list[Captured]]) -> tuple[str, dict[str, Any]]:
    lines: list[str] = []
    summary: dict[str, Any] = {}
    for request, statements in captured.items():
        lines += ["=" * 100, f"REQUEST {request}", f"{len(statements)} statements", "=" * 100]
        rows = []
        for n, item in enumerate(statements, 1):
            big_seq = {kind: [t for t in seq_scans(plan) if t in BIG_TABLES] for kind, plan in item.plans.items()}
            rows.append(
                {
                    "n": n,
                    "tables": item.tables(),
                    "custom_ms": execution_ms(item.plans["custom"]),
                    "generic_ms": execution_ms(item.plans["generic"]),
                    "seq_scans": {kind: seq_scans(plan) for kind, plan in item.plans.items()},
                    "seq_scan_on_big_table": any(big_seq.values()),
                }
            )
            lines += [f"--- statement {n}: tables {', '.join(item.tables())}", item.statement.strip(), f"params: {item.parameters}"]
            for kind, plan in item.plans.items():
                lines += [f"--- {kind} plan", plan]
            lines.append("")
        summary[request] = rows
    return "\n".join(lines) + "\n", summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--deep-rows", type=int, default=10_000)
    parser.add_argument("--result", default="explain")
    args = parser.parse_args()

    app = make_app(args.server_url, args.database)
    with app.app_context():
        scenario = prepare(deep_rows=args.deep_rows, detail_samples=10, token_name="bench explain")
    captured = capture_requests(app, scenario)
    with psycopg.connect(libpq_url(args.server_url, args.database), autocommit=True, prepare_threshold=None) as conn:
        for statements in captured.values():
            for item in statements:
                item.plans["custom"] = explain_custom(conn, item)
                item.plans["generic"] = explain_generic(conn, item)
    text_report, summary = render(captured)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{args.result}.txt").write_text(text_report)
    write_result(args.result, {"scenario": scenario.public(), "provenance": provenance(), "requests": summary})

    failed = False
    for request, rows in summary.items():
        print(f"\n{request}")
        for row in rows:
            flag = "SEQ SCAN ON A BIG TABLE" if row["seq_scan_on_big_table"] else "ok"
            print(
                f"  #{row['n']:<2} {', '.join(row['tables']):<55} custom {row['custom_ms']:7.3f} ms"
                f"  generic {row['generic_ms']:7.3f} ms  seq scans {row['seq_scans']['custom'] or '-'}  {flag}"
            )
            failed |= row["seq_scan_on_big_table"]
    print(f"\nplans: {RESULTS_DIR / (args.result + '.txt')}")
    if failed:
        raise SystemExit("a benchmarked request scans a big table sequentially (see the plans)")


if __name__ == "__main__":
    main()
