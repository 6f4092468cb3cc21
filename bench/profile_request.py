"""Where the server's CPU time goes: cProfile over N in-process requests of each benchmarked kind.

    python -m bench.profile_request [--database servicehub_bench] [--requests 200] [--top 35]

The app runs in-process (Flask test client, same code path as under gunicorn minus the WSGI
server and gevent). The profiler counts CPU time (time.process_time), so waiting on PostgreSQL
does not show up. Prints wall and CPU time per request (without the profiler) and the top
functions by cumulative and own CPU time; writes bench/results/profile-<kind>.txt.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from typing import Any

from bench.common import DEFAULT_DATABASE, DEFAULT_SERVER_URL, RESULTS_DIR, make_app
from bench.scenario import Scenario, prepare


def paths(scenario: Scenario) -> dict[str, list[str]]:
    details = [f"/api/v1/tickets/{i}" for i in scenario.detail_ids]
    return {"inbox_first_page": [scenario.inbox_path()], "inbox_deep_page": [scenario.deep_path()], "ticket_detail": details}


def profile_kind(client: Any, token: str, urls: list[str], requests: int, top: int) -> tuple[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(20):  # warm-up
        assert client.get(urls[i % len(urls)], headers=headers).status_code == 200
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(requests):
        client.get(urls[i % len(urls)], headers=headers)
    wall_ms = (time.perf_counter() - wall0) * 1000 / requests
    cpu_ms = (time.process_time() - cpu0) * 1000 / requests
    profiler = cProfile.Profile(time.process_time)  # CPU time: waits on PostgreSQL do not count
    profiler.enable()
    for i in range(requests):
        client.get(urls[i % len(urls)], headers=headers)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return f"{wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU per request (without the profiler)", out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--deep-rows", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()

    app = make_app(args.server_url, args.database)
    with app.app_context():
        scenario = prepare(deep_rows=args.deep_rows, detail_samples=500, token_name="bench profile")
    client = app.test_client()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for kind, urls in paths(scenario).items():
        timing, report = profile_kind(client, scenario.token, urls, args.requests, args.top)
        (RESULTS_DIR / f"profile-{kind}.txt").write_text(f"{timing}\n\n{report}")
        print(f"{kind}: {timing} -> results/profile-{kind}.txt")


if __name__ == "__main__":
    main()
