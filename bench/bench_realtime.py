"""Live collaboration at 2,000 Socket.IO clients: commit -> receipt latency in a 200-member room.

    python -m bench.bench_realtime [--clients 2000] [--members 200] [--updates 200] [--rate 10]

One server process as in production: gunicorn with the gevent worker (config/gunicorn.conf.py,
WEB_CONCURRENCY=1), PostgreSQL database `servicehub_bench_rt` (dropped, created and migrated here),
Redis as the Socket.IO message queue, and one publisher process (`python -m
service_hub.realtime.publisher`). Client processes (gevent + python-socketio's client over
WebSocket, --client-processes of them) open --clients connections, each with its own agent's API
token: --members agents of department D join "department:D", the others join "department:E" (their
own board, quiet during the run). Then this process commits --updates ticket updates in D at --rate
per second through tickets.operations.update_ticket, as a web or worker process would, and notes
the wall clock right after each commit. Each client notes when each event arrives; both clocks are
the same machine's. Latency = receipt - commit, over every (update, member) pair.

Everything (server, publisher, PostgreSQL, Redis, the clients) shares this machine's cores; CPU
seconds per process are reported so the share of each is visible. RSS and CPU from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH_SECRET_KEY,
    DEFAULT_REDIS_URL,
    DEFAULT_SERVER_URL,
    REPO_ROOT,
    RESULTS_DIR,
    cpu_by_pid,
    create_database,
    machine,
    machine_busy_seconds,
    percentile,
    provenance,
    wait_http,
)

DATABASE = "servicehub_bench_rt"


# --- /proc --------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in {"postgres", "postmaster"}:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between the snapshots by the processes alive at both (backends come and go)."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def raise_fd_limit() -> tuple[int, int]:
    """Each client connection is a file descriptor in the server and one in a client process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# --- client process (gevent) ----------------------------------------------------------------------


def client_main() -> None:
    """`python -c 'from gevent import monkey; monkey.patch_all(); ...client_main()' SPEC_FILE OUT_FILE`."""
    import gevent
    import socketio
    from gevent.lock import Semaphore

    spec = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    raise_fd_limit()
    received: dict[int, list[tuple[int, float]]] = {}  # client index -> [(seq, receipt time)]
    failures: list[str] = []
    gate = Semaphore(spec["connect_concurrency"])
    clients = []

    def start(index: int, token: str, room: str) -> None:
        client = socketio.Client(reconnection=False)
        got = received.setdefault(index, [])

        @client.on("event")
        def _on_event(message: dict[str, Any]) -> None:
            got.append((message["seq"], time.time()))

        with gate:
            try:
                client.connect(spec["url"], auth={"token": token}, transports=["websocket"], wait_timeout=60)
                ack = client.call("join", {"room": room}, timeout=60)
                if not ack.get("ok"):
                    failures.append(f"join {room}: {ack}")
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                return
        clients.append(client)

    jobs = [gevent.spawn(start, i, c["token"], c["room"]) for i, c in enumerate(spec["clients"])]
    gevent.joinall(jobs)
    print(json.dumps({"ready": len(clients), "failures": failures[:5], "failed": len(failures)}), flush=True)
    stop = out.with_suffix(".stop")
    while not stop.exists():  # the driver says when the run is over (a blocking stdin read would stall gevent)
        gevent.sleep(0.2)
    out.write_text(json.dumps({"received": {spec["clients"][i]["agent_id"]: r for i, r in received.items()}, "failed": len(failures)}))
    for client in clients:
        gevent.spawn(client.disconnect)
    gevent.sleep(1)
    print(json.dumps({"done": True}), flush=True)
    os._exit(0)


# --- set-up ---------------------------------------------------------------------------------------


def seed(app: Any, clients: int, members: int) -> dict[str, Any]:
    """Departments D and E, one agent and token per client, a ticket in D; returns ids and tokens."""
    import secrets

    from flask_migrate import upgrade

    from service_hub.auth.models import ApiToken
    from service_hub.auth.principal import hash_token
    from service_hub.core.extensions import db
    from service_hub.org.models import DepartmentKind, Presence
    from tests.factories import AgentFactory, DepartmentFactory, TicketFactory

    with app.app_context():
        upgrade()
        centre = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Bench centre")
        dept_d = DepartmentFactory(parent=centre, name="D: the 200-member room")
        dept_e = DepartmentFactory(parent=centre, name="E: everyone else")
        ticket = TicketFactory(department=dept_d)
        specs = []
        for n in range(clients):
            member = n < members
            agent = AgentFactory(departments=[dept_d if member else dept_e], presence=Presence.OFFLINE)
            secret = "shub_" + secrets.token_urlsafe(32)
            db.session.add(
                ApiToken(agent_id=agent.id, name="bench", token_hash=hash_token(secret), prefix=secret[:12], scopes=["tickets:read"])
            )
            specs.append(
                {"agent_id": agent.id, "token": secret, "room": f"department:{(dept_d if member else dept_e).id}", "member": member}
            )
        db.session.commit()
        return {"dept_d": dept_d.id, "dept_e": dept_e.id, "ticket": ticket.id, "clients": specs}


# --- the run --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="ticket updates per second")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--connect-concurrency", type=int, default=25, help="connects in flight per client process")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--result", default="realtime")
    parser.add_argument("--gc-probe", action="store_true", help="log the server's garbage collections of 10 ms or more")
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds between the last connect and the first update; 35 lets the first access re-check round finish",
    )
    args = parser.parse_args()

    limit = raise_fd_limit()
    print(f"open files limit {limit}", flush=True)
    database_url = f"postgresql+psycopg://{args.server_url.split('://', 1)[1]}/{DATABASE}"
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "SOCKETIO_CHANNEL": f"servicehub-bench-rt-{os.getpid()}",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "PORT": str(args.port),
        "WEB_CONCURRENCY": "1",
        # gunicorn.conf.py's default of 1000 would refuse connections past the thousandth.
        "GUNICORN_WORKER_CONNECTIONS": str(args.clients + 500),
        "LOG_LEVEL": "warning",
        "PYTHONPATH": str(REPO_ROOT),
    }
    try:  # production mode asks for a channel-credentials key; a throwaway one does here
        from cryptography.fernet import Fernet

        env.setdefault("CHANNEL_SECRET_KEY", Fernet.generate_key().decode())
    except ImportError:
        pass
    work = Path(tempfile.mkdtemp(prefix="servicehub-bench-rt-"))
    env["SERVICE_HUB_INSTANCE"] = str(work)

    t0 = time.monotonic()
    create_database(args.server_url, DATABASE)
    from config.settings import Settings
    from service_hub import create_app

    app = create_app(
        Settings.from_env({"DATABASE_URL": database_url, "SECRET_KEY": BENCH_SECRET_KEY, "LOG_JSON": "false"}, instance_path=work)
    )
    world = seed(app, args.clients, args.members)
    print(f"database created, migrated and seeded in {time.monotonic() - t0:.1f} s", flush=True)

    logs = RESULTS_DIR
    logs.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{args.port}"
    server_log = (logs / f"{args.result}-gunicorn.log").open("w")
    publisher_log = (logs / f"{args.result}-publisher.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "bench/gunicorn_gc_probe.conf.py" if args.gc_probe else "config/gunicorn.conf.py",
            "service_hub.wsgi:app",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=server_log,
        stderr=server_log,
    )
    publisher = subprocess.Popen(
        [sys.executable, "-m", "service_hub.realtime.publisher"], cwd=REPO_ROOT, env=env, stdout=publisher_log, stderr=publisher_log
    )
    client_procs: list[subprocess.Popen[str]] = []
    try:
        wait_http(url, server)
        worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
        idle_rss = {"worker_kib": rss_kib(worker), "master_kib": rss_kib(server.pid)}

        # Clients: members spread over every process, so no one process holds the whole room.
        specs = world["clients"]
        shards = [specs[i :: args.client_processes] for i in range(args.client_processes)]
        outs = []
        t_connect = time.monotonic()
        for n, shard in enumerate(shards):
            spec_file, out_file = work / f"clients-{n}.json", work / f"received-{n}.json"
            spec_file.write_text(json.dumps({"url": url, "clients": shard, "connect_concurrency": args.connect_concurrency}))
            outs.append(out_file)
            client_procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        "from gevent import monkey; monkey.patch_all()\nfrom bench.bench_realtime import client_main; client_main()",
                        str(spec_file),
                        str(out_file),
                    ],
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        ready = [json.loads(p.stdout.readline()) for p in client_procs]  # type: ignore[union-attr]
        connect_seconds = time.monotonic() - t_connect
        connected = sum(r["ready"] for r in ready)
        print(
            f"{connected} clients connected and joined in {connect_seconds:.1f} s; failures {[r['failures'] for r in ready if r['failed']]}",
            flush=True,
        )
        time.sleep(args.settle)  # let the connect storm settle (and, with --settle 35, the first re-check round)
        connected_rss = {"worker_kib": rss_kib(worker), "master_kib": rss_kib(server.pid)}

        # The measured run: ticket updates at a steady rate, committed in this process.
        from sqlalchemy import select

        from service_hub.auth.principal import Principal
        from service_hub.core.extensions import db
        from service_hub.core.outbox import OutboxEvent
        from service_hub.org.models import Agent
        from service_hub.tickets.models import Ticket
        from service_hub.tickets.operations import update_ticket

        pids = {
            "server": [server.pid, worker],
            "publisher": [publisher.pid],
            "clients": [p.pid for p in client_procs],
            "postgres": postgres_pids(),
        }
        cpu_before = {k: cpu_by_pid(v) for k, v in pids.items()}
        busy_before, total_before = machine_busy_seconds()
        committed: dict[int, float] = {}
        t_run = time.monotonic()
        with app.app_context():
            actor = Principal(agent=db.session.get(Agent, specs[0]["agent_id"]), via="system")
            for n in range(args.updates):
                due = t_run + n / args.rate
                time.sleep(max(0.0, due - time.monotonic()))
                ticket = db.session.get(Ticket, world["ticket"])
                update_ticket(actor, ticket, {"version": ticket.version, "subject": f"bench update {n}"})  # commits
                at = time.time()
                seq = db.session.scalar(
                    select(OutboxEvent.id).where(OutboxEvent.event_type == "ticket.updated").order_by(OutboxEvent.id.desc()).limit(1)
                )
                committed[int(seq)] = at
                db.session.rollback()
        run_seconds = time.monotonic() - t_run
        time.sleep(15)  # the tail of the last events (late ones on a busy machine)
        cpu_after = {k: cpu_by_pid(v) for k, v in pids.items()}
        busy_after, total_after = machine_busy_seconds()
        window = time.monotonic() - t_run
        end_rss = {"worker_kib": rss_kib(worker), "master_kib": rss_kib(server.pid)}

        for out in outs:
            out.with_suffix(".stop").touch()
        for p in client_procs:
            p.stdout.readline()  # type: ignore[union-attr]
            p.wait(timeout=60)
        received: dict[str, list[list[float]]] = {}
        for out in outs:
            received.update(json.loads(out.read_text())["received"])
    finally:
        for p in client_procs:
            if p.poll() is None:
                p.kill()
        for p in (publisher, server):
            if p.poll() is None:
                p.send_signal(signal.SIGINT if p is server else signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()

    members = {str(c["agent_id"]) for c in specs if c["member"]}
    latencies, missing, duplicates, foreign = [], 0, 0, 0
    slowest: dict[int, float] = {}  # per update: the last member's receipt, to see whether slow ones cluster
    for agent_id, events in received.items():
        seqs = [int(s) for s, _ in events]
        duplicates += len(seqs) - len(set(seqs))
        if agent_id not in members:
            foreign += sum(1 for s in seqs if s in committed)
            continue
        first = {}
        for seq, at in events:
            first.setdefault(int(seq), at)
        for seq, at in committed.items():
            if seq in first:
                latencies.append((first[seq] - at) * 1000)
                slowest[seq] = max(slowest.get(seq, 0.0), (first[seq] - at) * 1000)
            else:
                missing += 1
    missing += (len(members) - len(members & set(received))) * len(committed)
    cores = {k: round(cpu_delta(cpu_before[k], cpu_after[k]) / window, 3) for k in pids}
    result = {
        "args": vars(args),
        "open_files_limit": limit,
        "connected": connected,
        "connect_seconds": round(connect_seconds, 1),
        "updates": len(committed),
        "run_seconds": round(run_seconds, 2),
        "deliveries_expected": len(committed) * len(members),
        "deliveries": len(latencies),
        "missing": missing,
        "duplicates": duplicates,
        "events_at_non_members": foreign,
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p90": round(percentile(latencies, 90), 1),
            "p99": round(percentile(latencies, 99), 1),
            "max": round(max(latencies), 1),
            "mean": round(statistics.fmean(latencies), 1),
        }
        if latencies
        else None,
        # Update n (in commit order) -> ms until its last member had it; clustered highs point at a pause.
        "slowest_member_ms_by_update": [round(slowest.get(seq, -1.0), 1) for seq in sorted(committed)],
        "rss": {"idle": idle_rss, "connected": connected_rss, "end": end_rss},
        "cpu_cores_during_run": cores,
        "machine_cores_busy": round((busy_after - busy_before) / window, 2),
        # This machine is shared: what else ran (Redis included) during the measured window.
        "other_processes_cores": round((busy_after - busy_before) / window - sum(cores.values()), 2),
        "machine_cores_total": round((total_after - total_before) / window, 2),
        "machine": machine(),
        "provenance": provenance(),
    }
    path = RESULTS_DIR / f"{args.result}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in {"machine", "provenance", "args"}}, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
