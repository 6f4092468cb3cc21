"""Shared helpers of the benchmark scripts: database URLs, the app factory call, result files.

Run the scripts from the repository root (the Makefile does): `python bench/<script>.py`.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"

if str(REPO_ROOT) not in sys.path:  # so `python bench/x.py` can import service_hub and config
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_DATABASE = os.environ.get("BENCH_DATABASE", "servicehub_bench")
# libpq URL of the server, without a database name (trust auth in the dev setup).
DEFAULT_SERVER_URL = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
DEFAULT_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Production mode wants 32+ characters; this key only signs cookies of a throwaway bench server.
BENCH_SECRET_KEY = "bench-secret-key-" + "x" * 40

BENCH_PASSWORD = "bench-password-2026"  # every generated agent has it
AGENT_MAIL_DOMAIN = "bench.servicehub.test"


def libpq_url(server_url: str, database: str) -> str:
    return f"{server_url.rstrip('/')}/{database}"


def create_database(server_url: str, database: str) -> None:
    """Drop (if it exists) and create an empty database for one benchmark."""
    import psycopg

    with psycopg.connect(libpq_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def sqlalchemy_url(server_url: str, database: str) -> str:
    """The app's DATABASE_URL: psycopg 3 driver, as config.settings normalises it."""
    url = libpq_url(server_url, database)
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def make_app(server_url: str, database: str, **env: str) -> Any:
    """The real app factory against the bench database (embedded mode: no Redis needed in-process)."""
    from config.settings import Settings
    from service_hub import create_app

    instance = Path(tempfile.mkdtemp(prefix="servicehub-bench-"))
    settings = Settings.from_env(
        {"DATABASE_URL": sqlalchemy_url(server_url, database), "SECRET_KEY": BENCH_SECRET_KEY, "LOG_JSON": "false", **env},
        instance_path=instance,
    )
    return create_app(settings)


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def read_result(name: str) -> dict[str, Any]:
    return dict(json.loads((RESULTS_DIR / f"{name}.json").read_text()))


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu_model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def provenance() -> dict[str, Any]:
    """Which code the figures belong to: the app changes while benchmarks are made."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    if "BENCH_SOURCE" in os.environ:  # e.g. run from a `git archive` export of one commit
        return {"source": os.environ["BENCH_SOURCE"], "load_average": os.getloadavg()}
    changed = git("status", "--porcelain", "--", "service_hub", "migrations", "config").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_app_files": changed, "load_average": os.getloadavg()}


# --- processes and the machine, from /proc ---------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """cpu_seconds of each process still alive."""
    found = {}
    for pid in pids:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:
            continue
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def wait_http(url: str, process: subprocess.Popen[bytes], seconds: float = 120, path: str = "/healthz") -> None:
    """Wait until the server answers `path`; give up if it exits or takes longer than `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{url}{path}", timeout=2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start (exit {process.poll()})") from None
            time.sleep(0.2)


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100) of unsorted values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]
