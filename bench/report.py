"""Print the figures of bench/results/*.json as Markdown tables (the source of BENCHMARKS.md).

python -m bench.report [--prefix ""]
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.common import RESULTS_DIR, read_result

INBOX_P95_TARGET_MS = 30.0
KINDS = {
    "inbox_first_page": "Inbox, first page",
    "inbox_deep_page": "Inbox, deep page",
    "ticket_detail": "Ticket detail",
    "healthz_floor": "/healthz (framework floor, not a target)",
}


def generation_table(data: dict[str, Any]) -> list[str]:
    lines = ["| Phase | Seconds |", "|---|---:|"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in data["phases_s"].items()]
    lines.append(f"| **total** | **{data['total_s']:.1f}** |")
    lines += ["", "| Table | Rows |", "|---|---:|"]
    lines += [f"| {table} | {count:,} |" for table, count in data["rows"].items()]
    lines += ["", f"Sizes: {', '.join(f'{k} {v}' for k, v in data['sizes'].items())}"]
    lines.append(f"Statuses: {', '.join(f'{k} {v:,}' for k, v in data['statuses'].items())}")
    return lines


def load_tables(data: dict[str, Any]) -> list[str]:
    lines = [
        "| Workers | Request | Requests | Errors | p50 ms | p95 ms | p99 ms | max ms | req/s | server p95 ms | CPU busy % |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in data["results"]:
        for kind, run in result["runs"].items():
            server = run["server_side_ms"] or {}
            lines.append(
                f"| {result['workers']} | {KINDS[kind]} (c={result['concurrency']}) | {run['requests']} | {run['errors']} "
                f"| {run['p50_ms']} | {run['p95_ms']} | {run['p99_ms']} | {run['max_ms']} | {run['rps']} "
                f"| {server.get('p95', '-')} | {run['cpu']['machine_busy_pct']} |"
            )
        for kind, run in result.get("diagnostic_concurrency_1", {}).items():
            lines.append(
                f"| {result['workers']} | {KINDS[kind]} (c=1, diagnostic) | {run['requests']} | {run['errors']} "
                f"| {run['p50_ms']} | {run['p95_ms']} | {run['p99_ms']} | {run['max_ms']} | {run['rps']} "
                f"| {(run['server_side_ms'] or {}).get('p95', '-')} | {run['cpu']['machine_busy_pct']} |"
            )
    lines += ["", "| Workers | Request | gunicorn cores | PostgreSQL cores | load generator cores | gunicorn CPU ms/req | PG CPU ms/req |"]
    lines.append("|---:|---|---:|---:|---:|---:|---:|")
    for result in data["results"]:
        for kind, run in result["runs"].items():
            cpu = run["cpu"]
            lines.append(
                f"| {result['workers']} | {KINDS[kind]} | {cpu['gunicorn_cores']} | {cpu['postgres_cores']} "
                f"| {cpu['load_generator_cores']} | {cpu['gunicorn_cpu_ms_per_request']} | {cpu['postgres_cpu_ms_per_request']} |"
            )
    lines += ["", "| Workers | RSS idle after start (MiB) | after first warm-up | at the end |", "|---:|---|---|---|"]
    for result in data["results"]:
        cells = [_rss(result[key]) for key in ("rss_idle_after_start", "rss_after_first_warmup", "rss_end")]
        lines.append(f"| {result['workers']} | {' | '.join(cells)} |")
    return lines


def _rss(rss: dict[str, Any]) -> str:
    return f"workers {', '.join(str(w) for w in rss['workers_mib'])}; master {rss['master_mib']}; total {rss['total_mib']}"


def target_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    for result in data["results"]:
        p95 = result["runs"]["inbox_first_page"]["p95_ms"]
        met = "met" if p95 < INBOX_P95_TARGET_MS else "NOT met"
        lines.append(f"- workers={result['workers']}: inbox first page p95 {p95} ms vs target < {INBOX_P95_TARGET_MS:.0f} ms: **{met}**")
    return lines


def explain_table(data: dict[str, Any]) -> list[str]:
    lines = ["| Request | # | Tables | custom plan ms | generic plan ms | Seq Scans |", "|---|---:|---|---:|---:|---|"]
    for request, rows in data["requests"].items():
        for row in rows:
            scans = ", ".join(row["seq_scans"]["custom"]) or "-"
            lines.append(
                f"| {request.split(':')[0]} | {row['n']} | {', '.join(row['tables'])} | {row['custom_ms']} | {row['generic_ms']} | {scans} |"
            )
    return lines


def experiments_tables(data: dict[str, Any]) -> list[str]:
    lines = [
        "| Inbox statement, rows in | median ms | p90 ms | tickets scan | its rows removed by filter | its buffer hits | statement buffer hits |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for depth, row in data.get("inbox_statement_by_depth", {}).items():
        lines.append(
            f"| {depth} | {row['median_ms']} | {row['p90_ms']} | {row['tickets_scan'].lstrip('-> ')} "
            f"| {row.get('tickets_rows_removed_by_filter', '?')} | {row.get('tickets_scan_buffer_hits', '?')} "
            f"| {row.get('statement_buffer_hits', '?')} |"
        )
    lines += ["", "| Variant: request (c=8, 2 workers) | p50 ms | p95 ms | mean ms | req/s | gunicorn CPU ms/req | PG CPU ms/req |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, run in data.get("http", {}).items():
        cpu = run["cpu"]
        lines.append(
            f"| {name} | {run['p50_ms']} | {run['p95_ms']} | {run['mean_ms']} | {run['rps']} "
            f"| {cpu['gunicorn_cpu_ms_per_request']} | {cpu['postgres_cpu_ms_per_request']} |"
        )
    lines += ["", "| In-process request: variant | wall ms | CPU ms |", "|---|---:|---:|"]
    lines += [f"| {name} | {v['wall_ms']} | {v['cpu_ms']} |" for name, v in data.get("in_process_cpu", {}).items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="", help="result file prefix, e.g. 'smoke-'")
    args = parser.parse_args()
    sections = [("Data generation", "generate", generation_table), ("EXPLAIN", "explain", explain_table)]
    sections += [("HTTP load", "http_load", load_tables), ("Target", "http_load", target_lines)]
    sections += [("Experiments", "experiments", experiments_tables)]
    for title, name, render in sections:
        if not (RESULTS_DIR / f"{args.prefix}{name}.json").exists():
            print(f"## {title}\n\n(no {args.prefix}{name}.json yet)\n")
            continue
        print(f"## {title}\n")
        print("\n".join(render(read_result(args.prefix + name))) + "\n")


if __name__ == "__main__":
    main()
