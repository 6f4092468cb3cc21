"""config/gunicorn.conf.py plus a probe that logs every garbage collection of 10 ms or more.

Diagnostic only (`python -m bench.bench_realtime --gc-probe`): is the periodic p99 burst the
cyclic garbage collector walking the heap of 2,000 connections?
"""

import gc
import sys
import time
from pathlib import Path

exec(Path("config/gunicorn.conf.py").read_text())  # the production settings, unchanged


_production_post_worker_init = post_worker_init  # type: ignore[name-defined]  # noqa: F821 - defined by the exec above


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    _production_post_worker_init(worker)
    print(f"GC frozen at start: {gc.get_freeze_count()} objects", file=sys.stderr, flush=True)
    started: dict[str, float] = {}

    def probe(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started["at"] = time.perf_counter()
            return
        took = (time.perf_counter() - started.get("at", time.perf_counter())) * 1000
        if took >= 10:
            print(
                f"GC gen{info['generation']} {took:.1f} ms at {time.time():.3f} collected={info['collected']} "
                f"objects={len(gc.get_objects(info['generation']))}",
                file=sys.stderr,
                flush=True,
            )

    gc.callbacks.append(probe)
