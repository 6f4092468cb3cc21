"""Business-time due dates per second on one core: China calendar with holidays, random starts and targets.

Run from the repository root: `python -m bench.bench_business_time` (or `python bench/bench_business_time.py`).
Prints one JSON line; the issue's target is at least 200,000 due times per second.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make workflows importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workflows.business_time import china_calendar

WORKING_DAY = 8 * 3600  # the default China hours: 09:00-12:00 and 13:00-18:00


def _targets(rng: random.Random, n: int) -> list[float]:
    """Minutes to 15 working days, weighted like real policies (many short, some long)."""
    choices = (
        lambda: rng.uniform(60, 3600),  # first response on chat and SMS
        lambda: rng.uniform(3600, WORKING_DAY),  # email, callbacks
        lambda: rng.uniform(WORKING_DAY, 3 * WORKING_DAY),  # fault repair
        lambda: rng.uniform(3 * WORKING_DAY, 15 * WORKING_DAY),  # formal complaints
    )
    return [rng.choice(choices)() for _ in range(n)]


def _best_rate(fn: Callable[[], None], repeats: int, n: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):  # one core, as the target says
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    rng = random.Random(args.seed)
    calendar = china_calendar([args.year, args.year + 1])
    year_start = datetime(args.year, 1, 1, tzinfo=calendar.zone)
    year_seconds = (datetime(args.year + 1, 1, 1, tzinfo=calendar.zone) - year_start).total_seconds()
    starts = [(year_start + timedelta(seconds=rng.uniform(0, year_seconds))).astimezone(UTC) for _ in range(args.calls)]
    targets = _targets(rng, args.calls)
    ends = [s + timedelta(seconds=rng.uniform(0, 30 * 86400)) for s in starts]
    calendar.add(starts[0], 0)  # build the year tables outside the timing, as a warm process has them
    calendar.between(starts[0], datetime(args.year + 1, 12, 31, tzinfo=UTC))

    add = calendar.add
    between = calendar.between
    add_epoch = calendar.add_epoch
    start_ts = [s.timestamp() for s in starts]
    pairs = list(zip(starts, targets, strict=True))
    spans = list(zip(starts, ends, strict=True))
    epoch_pairs = list(zip(start_ts, targets, strict=True))

    def run_add() -> None:
        for s, seconds in pairs:
            add(s, seconds)

    def run_add_epoch() -> None:
        for s, seconds in epoch_pairs:
            add_epoch(s, seconds)

    def run_between() -> None:
        for a, b in spans:
            between(a, b)

    def run_due_and_back() -> None:  # correctness spot check, not timed
        for s, seconds in pairs[:10_000]:
            assert abs(between(s, add(s, seconds)) - seconds) < 1e-5

    run_due_and_back()
    result = {
        "bench": "business_time",
        "calendar": f"China {args.year}-{args.year + 1}, Asia/Shanghai, Mon-Fri 09:00-12:00 13:00-18:00",
        "calls": args.calls,
        "add_per_s": round(_best_rate(run_add, args.repeats, args.calls)),
        "add_epoch_per_s": round(_best_rate(run_add_epoch, args.repeats, args.calls)),
        "between_per_s": round(_best_rate(run_between, args.repeats, args.calls)),
        "target_add_per_s": 200_000,
        "python": platform.python_version(),
        "cpu": next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
