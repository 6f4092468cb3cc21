"""Inbound channels end to end (issue 3): signed Twilio SMS webhooks -> ticket or message -> event published.

    python -m bench.bench_inbound [--rates 100,200,300,500] [--duration 60] [--web-concurrency 2]
                                  [--celery-pool prefork] [--celery-concurrency 2]

Each step (one offered rate) runs on a fresh PostgreSQL database `servicehub_bench_inbound`
(dropped, created, migrated, seeded: a centre, an "SMS desk" department with --agents online
agents, an admin, and one Twilio SMS channel account made by service_hub.inbound.accounts
.create_account, its credentials in the vault under a throwaway CHANNEL_SECRET_KEY) and the
production shape: gunicorn (config/gunicorn.conf.py, gevent, WEB_CONCURRENCY=--web-concurrency),
a Celery worker (`celery -A service_hub.celery_worker worker`, --celery-pool/--celery-concurrency),
the realtime publisher (`python -m service_hub.realtime.publisher`), Redis (broker, results,
Socket.IO message queue) and PostgreSQL, all in production mode.

Load: --generator-processes processes of stdlib http.client threads on keep-alive connections
send an open-loop schedule: request n is due at t0 + n / rate whatever happened to the ones
before it, and its acknowledgement latency is measured from that due time (coordinated omission
counted: a request that waited for a free connection waits on the clock). Every request is a
Twilio SMS webhook signed with twilio's RequestValidator before the run (signing does not take
the generators' CPU), with a unique MessageSid; --followup-share of them come from a phone that
wrote at least --followup-gap seconds earlier (a message onto its open ticket), the rest from a
new phone (a new customer and ticket).

End to end: this process subscribes to the Socket.IO Redis channel the publisher emits on and
notes when each "ticket.created" / "message.created" event goes out. After the load, it waits
for the backlog to drain (--drain-timeout), then joins each webhook (by MessageSid) to its
inbound_records row (status, ticket_id, message_id) and that to its published event. Reported per
step: ack p50/p90/p99/max (from the due time), statuses, end-to-end p50/p99 (due time -> event
published), messages published per second during the load window (whole window and its second
half), backlog at the window's end and drain time, CPU cores per process group over the window,
and other_processes_cores (the machine is shared). Results: results/<result>.json, logs beside it.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import (
    BENCH_SECRET_KEY,
    DEFAULT_REDIS_URL,
    DEFAULT_SERVER_URL,
    REPO_ROOT,
    RESULTS_DIR,
    cpu_by_pid,
    create_database,
    libpq_url,
    machine,
    machine_busy_seconds,
    percentile,
    provenance,
    sqlalchemy_url,
    wait_http,
    write_result,
)

DATABASE = "servicehub_bench_inbound"
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
OUR_NUMBER = "+8610695500001"
TEXTS = [
    "你好\uff0c我家的宽带从昨天晚上开始就断了\uff0c路由器灯一直是红的\uff0c麻烦尽快派人看看。",
    "Hello, my order 88231 has not arrived yet, can you check the delivery status please?",
    "请问我的账单为什么比上个月多了三十元\uff1f",
    "The app keeps logging me out after the last update.",
    "退款什么时候到账\uff1f订单号 20260412-7781",
]
FOLLOW_UPS = ["还在吗\uff1f", "Any update?", "谢谢", "I also tried restarting it, no change.", "好的\uff0c明天上午有人在家"]


# --- /proc ----------------------------------------------------------------------------------------


def wait_for_quiet(max_busy_pct: float, timeout_s: float) -> dict[str, Any]:
    """Other work shares this 2-core machine: wait (up to timeout_s) for a calm 3 s window."""
    started = time.monotonic()
    while True:
        busy0, total0 = machine_busy_seconds()
        time.sleep(3)
        busy1, total1 = machine_busy_seconds()
        busy_pct = 100 * (busy1 - busy0) / max(total1 - total0, 1e-9)
        waited = time.monotonic() - started
        if busy_pct <= max_busy_pct or waited >= timeout_s:
            return {"busy_pct_before": round(busy_pct, 1), "waited_s": round(waited, 1), "quiet": busy_pct <= max_busy_pct}
        print(f"machine {busy_pct:.0f}% busy with other work, waiting ...", flush=True)


def descendants(pid: int) -> list[int]:
    found = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += descendants(int(child))
    except OSError:
        pass
    return found


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def postgres_pids(server_url: str) -> list[int]:
    """Backends of the bench database and PostgreSQL's own processes, not other databases' backends."""
    import psycopg

    with psycopg.connect(libpq_url(server_url, "postgres"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s OR backend_type <> 'client backend'", (DATABASE,)
        ).fetchall()
    postmaster = []
    for pid in pids_named("postgres"):
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == "1":  # parent: init
                postmaster.append(pid)
        except OSError:  # a backend that just ended
            continue
    return sorted({r[0] for r in rows} | set(postmaster))


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between the snapshots; a process new at the end (a pool's new PostgreSQL backend)
    started during the window, so all of its CPU counts."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "p50": round(percentile(values, 50), 1),
        "p90": round(percentile(values, 90), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


# --- generator process ----------------------------------------------------------------------------


def generator_main(spec_file: str, out_file: str) -> None:
    """One load process: its share of the schedule over --connections keep-alive connections."""
    spec = json.loads(Path(spec_file).read_text())
    requests = spec["requests"]  # [due offset s, path, body, signature, sid]
    t0 = spec["t0"]
    results: list[list[Any] | None] = [None] * len(requests)
    counter = itertools.count()

    def worker() -> None:
        conn = http.client.HTTPConnection(spec["host"], spec["port"], timeout=60)
        while True:
            n = next(counter)
            if n >= len(requests):
                break
            offset, path, body, signature, sid = requests[n]
            due = t0 + offset
            if time.time() > spec["stop_at"]:  # the server fell this far behind: the rest is not sent
                results[n] = [sid, due, None, None, "unsent"]
                continue
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature, "Host": spec["host_header"]}
            sent = time.time()
            try:
                conn.request("POST", path, body=body.encode(), headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                status = f"{type(exc).__name__}"
                conn.close()
                conn = http.client.HTTPConnection(spec["host"], spec["port"], timeout=60)
            results[n] = [sid, due, sent, time.time(), status]
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(spec["connections"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    Path(out_file).write_text(json.dumps([r for r in results if r is not None]))


# --- set-up -----------------------------------------------------------------------------------------


def seed(app: Any, agents: int) -> dict[str, Any]:
    from flask_migrate import upgrade

    from service_hub.auth.principal import Principal
    from service_hub.core.extensions import db
    from service_hub.inbound.accounts import create_account
    from service_hub.org.models import DepartmentKind, Presence, Role
    from tests.factories import AgentFactory, DepartmentFactory

    with app.app_context():
        upgrade()
        centre = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Bench centre")
        desk = DepartmentFactory(parent=centre, name="SMS desk")
        admin = AgentFactory(departments=[centre], role=Role.ADMIN, presence=Presence.OFFLINE)
        for _ in range(agents):
            AgentFactory(departments=[desk], presence=Presence.ONLINE)
        db.session.commit()
        account = create_account(
            Principal(agent=admin, via="system"),
            {
                "kind": "sms.twilio",
                "name": "Bench SMS",
                "default_department_id": desk.id,
                "credentials": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
                "settings": {"from_number": OUR_NUMBER},
                "is_active": True,
            },
        )
        world = {"slug": account.slug, "account_id": account.id, "department_id": desk.id}
        db.session.remove()
        db.engine.dispose()
        return world


def build_schedule(
    rate: float, duration: float, followup_share: float, followup_gap: float, seed_value: int, sid_prefix: str
) -> list[dict[str, Any]]:
    """The open-loop schedule: (due offset, sender, text); follow-ups reuse an earlier sender."""
    rng = random.Random(seed_value)
    count = int(rate * duration)
    schedule: list[dict[str, Any]] = []
    senders: list[tuple[float, str]] = []  # (first due offset, phone) in due order
    phones = itertools.count(rng.randrange(10_000_000, 20_000_000))
    eligible = 0
    for n in range(count):
        offset = n / rate
        while eligible < len(senders) and senders[eligible][0] <= offset - followup_gap:
            eligible += 1
        if eligible and rng.random() < followup_share:
            phone = senders[rng.randrange(eligible)][1]
            text, kind = rng.choice(FOLLOW_UPS), "followup"
        else:
            phone = f"+86138{next(phones):08d}"
            senders.append((offset, phone))
            text, kind = rng.choice(TEXTS), "new"
        schedule.append({"offset": offset, "from": phone, "text": text, "kind": kind, "sid": f"SM{sid_prefix}{n:024d}"})
    return schedule


def signed_requests(schedule: list[dict[str, Any]], path: str, url_base: str) -> list[list[Any]]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    out = []
    for item in schedule:
        fields = {
            "ToCountry": "CN",
            "ToState": "",
            "SmsMessageSid": item["sid"],
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": item["sid"],
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": item["text"],
            "FromCountry": "CN",
            "To": OUR_NUMBER,
            "MessagingServiceSid": "MG" + "c" * 32,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": item["sid"],
            "AccountSid": ACCOUNT_SID,
            "From": item["from"],
            "ApiVersion": "2010-04-01",
        }
        out.append([item["offset"], path, urlencode(fields), validator.compute_signature(url_base + path, fields), item["sid"]])
    return out


class Listener:
    """Notes when each ticket.created / message.created event leaves the publisher (Redis pub/sub)."""

    def __init__(self, redis_url: str, channel: str) -> None:
        import redis

        self.pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.tickets: dict[int, float] = {}  # ticket id -> when its ticket.created went out
        self.messages: dict[int, float] = {}  # message id -> when its message.created went out
        self.events = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped:
            message = self.pubsub.get_message(timeout=0.5)
            if message is None:
                continue
            at = time.time()
            try:
                packet = json.loads(message["data"])
            except (ValueError, TypeError):
                continue
            if packet.get("method") != "emit" or packet.get("event") != "event":
                continue
            event = packet.get("data") or {}
            if isinstance(event, list):  # python-socketio sends the emit's arguments as a list
                event = event[0] if event else {}
            if not isinstance(event, dict):
                continue
            self.events += 1
            data = event.get("data") or {}
            if event.get("type") == "ticket.created":
                self.tickets.setdefault(int(data["ticket_id"]), at)
            elif event.get("type") == "message.created" and data.get("message_id") is not None:
                self.messages.setdefault(int(data["message_id"]), at)

    def published(self) -> int:
        return len(self.tickets) + len(self.messages)

    def stop(self) -> None:
        self.stopped = True
        self.thread.join(timeout=5)
        self.pubsub.close()


def stop_process(process: subprocess.Popen[Any], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def records_by_sid(database_url: str) -> dict[str, dict[str, Any]]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT provider_message_id, status, ticket_id, message_id, attempts, "
                    "extract(epoch from received_at) AS received, extract(epoch from processed_at) AS processed FROM inbound_records"
                )
            ).all()
            counts = dict(
                conn.execute(
                    sa.text(
                        "SELECT 'tickets', count(*) FROM tickets UNION ALL SELECT 'messages', count(*) FROM messages "
                        "UNION ALL SELECT 'customers', count(*) FROM customers UNION ALL SELECT 'outbox_events', count(*) FROM outbox_events"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    found = {
        r.provider_message_id: {
            "status": r.status,
            "ticket_id": r.ticket_id,
            "message_id": r.message_id,
            "attempts": r.attempts,
            "received": float(r.received) if r.received is not None else None,
            "processed": float(r.processed) if r.processed is not None else None,
        }
        for r in rows
    }
    found["__counts__"] = counts
    return found


def processed_count(database_url: str) -> tuple[int, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT count(*) FILTER (WHERE status = 'processed'), count(*) FROM inbound_records")).one()
            return int(row[0]), int(row[1])
    finally:
        engine.dispose()


# --- one step -----------------------------------------------------------------------------------------


def run_step(args: argparse.Namespace, rate: float, label: str) -> dict[str, Any]:
    print(f"\n=== {label}: {rate:g}/s offered for {args.duration:g} s", flush=True)
    calm = wait_for_quiet(args.quiet_busy_pct, args.quiet_timeout)
    from cryptography.fernet import Fernet

    from config.settings import Settings
    from service_hub import create_app

    work = Path(tempfile.mkdtemp(prefix="servicehub-bench-inbound-"))
    database_url = sqlalchemy_url(args.server_url, DATABASE)
    channel_key = Fernet.generate_key().decode()
    run_id = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "SOCKETIO_CHANNEL": f"servicehub-bench-inbound-{run_id}",
        "CELERY_KEY_PREFIX": f"bench-inbound-{run_id}:",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "CHANNEL_SECRET_KEY": channel_key,
        "PORT": str(args.port),
        "WEB_CONCURRENCY": str(args.web_concurrency),
        "LOG_LEVEL": "warning",
        "PYTHONPATH": str(REPO_ROOT),
        "SERVICE_HUB_INSTANCE": str(work),
    }

    t_setup = time.monotonic()
    create_database(args.server_url, DATABASE)
    app = create_app(
        Settings.from_env(
            {"DATABASE_URL": database_url, "SECRET_KEY": BENCH_SECRET_KEY, "CHANNEL_SECRET_KEY": channel_key, "LOG_JSON": "false"},
            instance_path=work,
        )
    )
    world = seed(app, args.agents)
    path = f"/hooks/sms/twilio/{world['slug']}"
    host_header = f"127.0.0.1:{args.port}"
    schedule = build_schedule(rate, args.duration, args.followup_share, args.followup_gap, args.seed, run_id)
    warmup = build_schedule(20, args.warmup_seconds, 0.0, 1.0, args.seed + 1, "w" + run_id[:7])
    requests = signed_requests(schedule, path, f"http://{host_header}")
    warm_requests = signed_requests(warmup, path, f"http://{host_header}")
    print(f"database created, migrated and seeded, {len(requests)} requests signed in {time.monotonic() - t_setup:.1f} s", flush=True)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    logs = {name: (RESULTS_DIR / f"{args.result}-{label}-{name}.log").open("w") for name in ("gunicorn", "celery", "publisher")}
    celery_cmd = [sys.executable, "-m", "celery", "-A", "service_hub.celery_worker", "worker", "--loglevel=WARNING"]
    celery_cmd += [f"--pool={args.celery_pool}", f"--concurrency={args.celery_concurrency}"]
    celery_cmd += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"bench-inbound-{run_id}@%h"]
    procs = {
        "gunicorn": subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "service_hub.wsgi:app"],
            cwd=REPO_ROOT,
            env=env,
            stdout=logs["gunicorn"],
            stderr=logs["gunicorn"],
        ),
        "celery": subprocess.Popen(celery_cmd, cwd=REPO_ROOT, env=env, stdout=logs["celery"], stderr=logs["celery"]),
        "publisher": subprocess.Popen(
            [sys.executable, "-m", "service_hub.realtime.publisher"],
            cwd=REPO_ROOT,
            env=env,
            stdout=logs["publisher"],
            stderr=logs["publisher"],
        ),
    }
    listener = Listener(args.redis_url, env["SOCKETIO_CHANNEL"])
    generators: list[subprocess.Popen[bytes]] = []
    try:
        wait_http(f"http://{host_header}", procs["gunicorn"])

        # Warm-up: a few webhooks through the whole pipe (imports, pools, the publisher's lock).
        spec = work / "warmup.json"
        spec.write_text(
            json.dumps(
                {
                    "host": "127.0.0.1",
                    "port": args.port,
                    "host_header": host_header,
                    "t0": time.time(),
                    "stop_at": time.time() + 120,
                    "connections": 4,
                    "requests": warm_requests,
                }
            )
        )
        subprocess.run(
            [sys.executable, "-m", "bench.bench_inbound", "--generator", str(spec), str(work / "warmup-out.json")],
            cwd=REPO_ROOT,
            check=True,
        )
        warm_statuses = [r[4] for r in json.loads((work / "warmup-out.json").read_text())]
        deadline = time.monotonic() + 120
        while listener.published() < len(warm_requests):
            if time.monotonic() > deadline:
                raise SystemExit(f"warm-up: {listener.published()} of {len(warm_requests)} published (statuses {set(warm_statuses)})")
            time.sleep(0.2)
        time.sleep(2)
        warm_published = listener.published()
        print(f"warm-up: {len(warm_requests)} webhooks published end to end", flush=True)

        # The measured run.
        t0 = time.time() + 3.0
        outs = []
        for g in range(args.generator_processes):
            spec = work / f"gen-{g}.json"
            spec.write_text(
                json.dumps(
                    {
                        "host": "127.0.0.1",
                        "port": args.port,
                        "host_header": host_header,
                        "t0": t0,
                        "connections": args.connections,
                        "stop_at": t0 + args.duration + args.send_grace,
                        "requests": requests[g :: args.generator_processes],
                    }
                )
            )
            outs.append(work / f"gen-{g}-out.json")
            generators.append(
                subprocess.Popen([sys.executable, "-m", "bench.bench_inbound", "--generator", str(spec), str(outs[-1])], cwd=REPO_ROOT)
            )
        groups = {
            "gunicorn": descendants(procs["gunicorn"].pid),
            "celery": descendants(procs["celery"].pid),
            "publisher": [procs["publisher"].pid],
            "postgres": postgres_pids(args.server_url),
            "redis": pids_named("redis-server"),
            "generators": [p.pid for p in generators],
            "driver_listener": [os.getpid()],
        }
        time.sleep(max(0.0, t0 - time.time()))
        cpu_before = {k: cpu_by_pid(v) for k, v in groups.items()}
        busy_before, total_before = machine_busy_seconds()
        published_at_start = listener.published()
        half_at = t0 + args.duration / 2
        time.sleep(max(0.0, half_at - time.time()))
        published_at_half = listener.published()
        t_end = t0 + args.duration
        time.sleep(max(0.0, t_end - time.time()))
        published_at_end = listener.published()
        groups |= {
            "gunicorn": descendants(procs["gunicorn"].pid),
            "celery": descendants(procs["celery"].pid),
            "postgres": postgres_pids(args.server_url),
        }
        cpu_after = {k: cpu_by_pid(v) for k, v in groups.items()}
        busy_after, total_after = machine_busy_seconds()
        window = time.time() - t0
        for p in generators:
            p.wait(timeout=args.send_grace + 120)
        results: list[list[Any]] = []
        for out in outs:
            results += json.loads(out.read_text())
        ok = sum(1 for r in results if r[4] == 200)
        load_done = time.time()
        print(
            f"load done: {len(results)} sent, {ok} acknowledged 200; published so far {published_at_end - published_at_start}", flush=True
        )

        # Drain: wait until everything acknowledged has been published (or the drain timeout).
        target = warm_published + ok
        deadline = time.monotonic() + args.drain_timeout
        last_progress, last_count = time.monotonic(), listener.published()
        while listener.published() < target and time.monotonic() < deadline:
            time.sleep(0.5)
            if listener.published() != last_count:
                last_progress, last_count = time.monotonic(), listener.published()
            elif time.monotonic() - last_progress > 60:
                print("no progress for 60 s; stopping the drain", flush=True)
                break
        time.sleep(1.0)
        drained = listener.published() >= target
        print(f"drain: {listener.published() - warm_published} of {ok} published ({'complete' if drained else 'INCOMPLETE'})", flush=True)
        records = records_by_sid(database_url)
    finally:
        listener.stop()
        for p in generators:
            if p.poll() is None:
                p.kill()
        stop_process(procs["gunicorn"], signal.SIGINT)
        stop_process(procs["celery"], signal.SIGTERM)
        stop_process(procs["publisher"], signal.SIGTERM)
        for f in logs.values():
            f.close()
        import redis

        keys = redis.Redis.from_url(args.redis_url)
        for name in keys.scan_iter(f"{env['CELERY_KEY_PREFIX']}*"):
            keys.delete(name)

    # --- figures of the step ---
    counts = records.pop("__counts__")
    kinds = {item["sid"]: item["kind"] for item in schedule}
    ack_ms = [(r[3] - r[1]) * 1000 for r in results if r[4] == 200]
    service_ms = [(r[3] - r[2]) * 1000 for r in results if r[4] == 200]
    late_sends = sum(1 for r in results if r[2] is not None and r[2] - r[1] > 0.010)
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[4])] = statuses.get(str(r[4]), 0) + 1
    e2e_ms, after_ack_ms, processed_after_ack_ms = [], [], []
    published_times = []
    missing, not_processed, record_status = 0, 0, {}
    by_kind = {"new": [], "followup": []}
    tickets_opened = 0
    for sid, due, _sent, done, status in results:
        if status != 200:
            continue
        record = records.get(sid)
        if record is None:
            missing += 1
            continue
        record_status[record["status"]] = record_status.get(record["status"], 0) + 1
        if record["status"] != "processed":
            not_processed += 1
            continue
        at = listener.messages.get(record["message_id"]) if record["message_id"] is not None else None
        if at is None:
            at = listener.tickets.get(record["ticket_id"])
            if at is not None:
                tickets_opened += 1
        if at is None:
            continue
        published_times.append(at)
        e2e_ms.append((at - due) * 1000)
        after_ack_ms.append((at - done) * 1000)
        processed_after_ack_ms.append((record["processed"] - done) * 1000)
        by_kind[kinds.get(sid, "new")].append((at - due) * 1000)
    in_window = sum(1 for t in published_times if t0 <= t <= t_end)
    second_half = sum(1 for t in published_times if half_at <= t <= t_end)
    last_published = max(published_times) if published_times else t_end
    cores = {k: round(cpu_delta(cpu_before[k], cpu_after[k]) / window, 3) for k in groups}
    result = {
        "offered_rate": rate,
        "duration_s": args.duration,
        "sent": sum(1 for r in results if r[4] != "unsent"),
        "unsent_server_too_far_behind": sum(1 for r in results if r[4] == "unsent"),
        "statuses": statuses,
        "acknowledged": ok,
        "sends_later_than_10ms": late_sends,
        "ack_latency_ms_from_due": summary(ack_ms),
        "ack_service_ms": summary(service_ms),
        "records": record_status,
        "acked_but_not_stored": missing,
        "not_processed_at_end": not_processed,
        "published_end_to_end": len(e2e_ms),
        "new_tickets_published": tickets_opened,
        "drained": drained,
        "throughput_per_s": {
            "offered": rate,
            "acknowledged": round(ok / args.duration, 1),
            "acknowledged_in_window": round(sum(1 for r in results if r[4] == 200 and r[3] <= t_end) / args.duration, 1),
            "published_in_window": round(in_window / args.duration, 1),
            "published_in_second_half": round(second_half / (args.duration / 2), 1),
        },
        "backlog_at_window_end": ok - in_window,
        "published_by_counter": {"start": published_at_start, "half": published_at_half, "end": published_at_end},
        "drain_seconds_after_window": round(max(0.0, last_published - t_end), 1),
        "load_finished_after_window_s": round(load_done - t_end, 1),
        "e2e_ms_from_due": summary(e2e_ms),
        "e2e_ms_new_ticket": summary(by_kind["new"]),
        "e2e_ms_followup": summary(by_kind["followup"]),
        "publish_ms_after_ack": summary(after_ack_ms),
        "processed_ms_after_ack": summary(processed_after_ack_ms),
        "db_counts": counts,
        "cpu_cores_during_window": cores,
        "machine_cores_busy": round((busy_after - busy_before) / window, 2),
        "other_processes_cores": round((busy_after - busy_before) / window - sum(cores.values()), 2),
        "machine_cores_total": round((total_after - total_before) / window, 2),
        "warmup_statuses": sorted({str(s) for s in warm_statuses}),
        "before_step": calm,
    }
    print(
        json.dumps(
            {
                k: result[k]
                for k in (
                    "statuses",
                    "throughput_per_s",
                    "ack_latency_ms_from_due",
                    "e2e_ms_from_due",
                    "backlog_at_window_end",
                    "drain_seconds_after_window",
                    "cpu_cores_during_window",
                    "other_processes_cores",
                )
            },
            indent=1,
        ),
        flush=True,
    )
    return result


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--generator":
        generator_main(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="100,200,300,500", help="offered rates per second, one step each")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per step")
    parser.add_argument("--web-concurrency", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--celery-pool", default="prefork", choices=["prefork", "gevent", "threads", "solo"])
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--agents", type=int, default=20, help="online agents of the SMS desk (capacity 5 each)")
    parser.add_argument("--followup-share", type=float, default=0.2, help="share of messages from a phone that wrote before")
    parser.add_argument("--followup-gap", type=float, default=5.0, help="a follow-up's phone first wrote at least this long before")
    parser.add_argument("--generator-processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections (threads) per generator process")
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="20/s of warm-up webhooks before each step")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument(
        "--send-grace", type=float, default=60.0, help="requests not sent by window end + this are left unsent (server too far behind)"
    )
    parser.add_argument("--quiet-busy-pct", type=float, default=15.0, help="start a step after a 3 s window this calm")
    parser.add_argument("--quiet-timeout", type=float, default=300.0, help="start anyway after waiting this long")
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--port", type=int, default=5079)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--result", default="inbound")
    args = parser.parse_args()

    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    steps = []
    for rate in rates:
        steps.append(run_step(args, rate, f"{rate:g}"))
        write_result(args.result, {"args": vars(args), "steps": steps, "machine": machine(), "provenance": provenance()})
    path = write_result(args.result, {"args": vars(args), "steps": steps, "machine": machine(), "provenance": provenance()})
    print(f"\nwritten to {path}")
    for step in steps:
        t = step["throughput_per_s"]
        ack, e2e = step["ack_latency_ms_from_due"] or {}, step["e2e_ms_from_due"] or {}
        print(
            f"{step['offered_rate']:>6g}/s offered: acked {t['acknowledged']}/s, published {t['published_in_window']}/s "
            f"(2nd half {t['published_in_second_half']}/s), backlog {step['backlog_at_window_end']}, drain {step['drain_seconds_after_window']} s, "
            f"ack p50/p99 {ack.get('p50')}/{ack.get('p99')} ms, e2e p50/p99 {e2e.get('p50')}/{e2e.get('p99')} ms, "
            f"other {step['other_processes_cores']} cores"
        )


if __name__ == "__main__":
    main()
