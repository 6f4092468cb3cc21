"""Two web processes joined by the Redis message queue, one publisher, and its standby.

Production-like: two gunicorn servers (gevent worker, config/gunicorn.conf.py) on their own ports,
one PostgreSQL database and one Redis; `python -m service_hub.realtime.publisher` publishes the
outbox. A python-socketio client on each server joins the same department room. Everything the
servers read must be committed, so this module migrates and seeds a database of its own (dropped
at the end) instead of the per-test rolled-back transaction. Its own Socket.IO channel keeps
parallel runs on the same Redis apart (pub/sub channels ignore Redis database numbers).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from service_hub.realtime.publisher import PUBLISHER_LOCK_KEY
from tests.conftest import IN_CI, POSTGRES_ADMIN_URL, REDIS_URL
from tests.realtime.served_app import ROOT, STARTUP_SECONDS, WAIT, Client, _free_port, wait_until

WATCH = ("event", "notice")


@dataclass
class Cluster:
    urls: list[str]
    env: dict[str, str]
    engine: sa.Engine
    ids: dict[str, Any]
    logs: Path
    publishers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    stack: ExitStack = field(default_factory=ExitStack)
    version: int | None = None  # of ticket A, as the last PATCH returned it

    def publisher_log(self, process: subprocess.Popen[bytes]) -> Path:
        return self.logs / f"publisher-{self.publishers.index(process)}.log"

    def start_publisher(self) -> subprocess.Popen[bytes]:
        out = self.stack.enter_context((self.logs / f"publisher-{len(self.publishers)}.log").open("w"))
        process = subprocess.Popen([sys.executable, "-m", "service_hub.realtime.publisher"], cwd=ROOT, env=self.env, stdout=out, stderr=out)
        self.publishers.append(process)
        return process

    def lock_holder(self) -> int | None:
        """The pid of the publisher process holding the advisory lock (from its application_name)."""
        with self.engine.connect() as conn:
            name = conn.execute(
                sa.text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key"
                ),
                {"key": PUBLISHER_LOCK_KEY},
            ).scalar()
        return int(name.rsplit(" ", 1)[1]) if name else None

    def standbys(self) -> set[int]:
        with self.engine.connect() as conn:
            names = conn.execute(
                sa.text("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'service_hub publisher %'")
            )
            return {int(n.rsplit(" ", 1)[1]) for (n,) in names} - {self.lock_holder()}

    def patch_subject(self, server: int, n: int) -> None:
        """One committed change through the HTTP API of one server (ticket.updated to the department room)."""
        path = f"/api/v1/tickets/{self.ids['ticket_a']}"
        if self.version is None:
            status, ticket = _http(self.urls[server], "GET", path, self.ids["ada_token"])
            assert status == 200, ticket
            self.version = ticket["version"]
        status, body = _http(self.urls[server], "PATCH", path, self.ids["ada_token"], {"version": self.version, "subject": f"change {n}"})
        assert status == 200, body
        self.version = body["version"]

    def expected(self, after: int, rooms: list[str]) -> list[int]:
        """Seqs of the events committed after `after` for any of these rooms, from the database."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT DISTINCT event_id FROM outbox_event_rooms WHERE room = ANY(:rooms) AND event_id > :after ORDER BY event_id"
                ),
                {"rooms": rooms, "after": after},
            )
            return [r for (r,) in rows]


def _http(url: str, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if request.config.getoption("--db") != "postgresql":
        pytest.skip("needs PostgreSQL (advisory lock, several processes on one database) and Redis: runs with --db=postgresql")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.exit(f"CI=true and Redis at {REDIS_URL} is unreachable: {exc}", returncode=3)
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"servicehub_mp_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    database_url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    logs = tmp_path_factory.mktemp("rt-multiprocess")
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "embedded",  # production mode adds settings (channel keys ...) that nothing here uses
        "SERVICE_HUB_INSTANCE": str(logs),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SOCKETIO_CHANNEL": f"servicehub-test-{uuid.uuid4().hex}",
        "SECRET_KEY": "m" * 40,
        "SESSION_COOKIE_SECURE": "false",
        "LOG_JSON": "false",
        "PYTHONPATH": str(ROOT),
    }
    engine = sa.create_engine(database_url)
    processes: list[subprocess.Popen[bytes]] = []
    cluster = None
    try:
        seed = subprocess.run(
            [sys.executable, "-c", "from tests.realtime.served_app import seed_main; seed_main()"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=STARTUP_SECONDS,
        )
        assert seed.returncode == 0, seed.stderr[-3000:]
        ids = json.loads(seed.stdout.strip().splitlines()[-1])
        ports = [_free_port(), _free_port()]
        cluster = Cluster([f"http://127.0.0.1:{p}" for p in ports], env, engine, ids, logs)
        for port in ports:
            out = cluster.stack.enter_context((logs / f"gunicorn-{port}.log").open("w"))
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "service_hub.wsgi:app"],
                    cwd=ROOT,
                    env={**env, "PORT": str(port), "LOG_LEVEL": "warning"},
                    stdout=out,
                    stderr=out,
                )
            )
        # Two publishers from the start: the lock must keep the second one silent (a standby).
        cluster.start_publisher()
        cluster.start_publisher()
        deadline = time.monotonic() + STARTUP_SECONDS
        for url, process in zip(cluster.urls, processes, strict=True):
            while True:
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"gunicorn did not start:\n{''.join(p.read_text() for p in logs.glob('*.log'))}", pytrace=False)
                    time.sleep(0.1)
        yield cluster
    finally:
        for process in processes:
            _stop(process, signal.SIGINT)  # gunicorn's quick shutdown; SIGTERM waits for open sockets
        for process in cluster.publishers if cluster else []:
            _stop(process)
        if cluster is not None:
            cluster.stack.close()
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pair(cluster: Cluster) -> Iterator[tuple[Client, Client, int]]:
    """Ada on server 0 and Bo on server 1, both in department A's room; and the head seq when they joined."""
    dept_a = f"department:{cluster.ids['dept_a']}"
    ada = Client(cluster_server(cluster, 0), cluster.ids["ada_token"], WATCH)
    bo = Client(cluster_server(cluster, 1), cluster.ids["bo_token"], WATCH)
    heads = [c.call("resume", {"last_seq": None, "rooms": [dept_a]}) for c in (ada, bo)]
    assert all(h["joined"] == [dept_a] for h in heads)
    yield ada, bo, max(h["head"] for h in heads)
    ada.close()
    bo.close()


def cluster_server(cluster: Cluster, n: int) -> Any:
    return type("Server", (), {"url": cluster.urls[n]})


def _seqs(client: Client) -> list[int]:
    return [m["seq"] for m in client.messages("event")]


def _wait_for_all(cluster: Cluster, clients: dict[str, Client], head: int) -> None:
    """Each client received exactly the committed events of its rooms after head: each once, in seq order."""
    dept_a = f"department:{cluster.ids['dept_a']}"
    for agent, client in clients.items():
        expected = cluster.expected(head, [dept_a, f"agent:{cluster.ids[agent]}"])
        assert expected, "no event was committed"
        assert wait_until(lambda c=client, e=expected: len(_seqs(c)) >= len(e), timeout=WAIT), (agent, _seqs(client), expected)
        time.sleep(0.3)  # a duplicate would arrive right behind
        assert _seqs(client) == expected, agent


def _active_and_standby(cluster: Cluster) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """The publisher holding the lock, once it publishes, and the one waiting for it."""
    by_pid = {p.pid: p for p in cluster.publishers if p.poll() is None}
    assert wait_until(lambda: cluster.lock_holder() in by_pid, timeout=STARTUP_SECONDS), "no publisher took the lock"
    holder = cluster.lock_holder()
    assert holder is not None
    active = by_pid.pop(holder)
    (standby,) = by_pid.values()
    # A publisher with no saved position starts at the head it reads after taking the lock.
    assert wait_until(lambda: "publisher started after outbox id" in cluster.publisher_log(active).read_text(), timeout=STARTUP_SECONDS)
    assert wait_until(lambda: standby.pid in cluster.standbys(), timeout=STARTUP_SECONDS), "the second publisher never connected"
    return active, standby


def test_every_event_reaches_a_client_on_each_server_once_and_in_order(cluster: Cluster, pair: tuple[Client, Client, int]) -> None:
    from flask_socketio import SocketIO

    _active_and_standby(cluster)  # two publishers run, one holds the lock: nothing may arrive twice
    ada, bo, head = pair
    for n in range(50):
        cluster.patch_subject(server=n % 2, n=n)  # changes made through both servers
    _wait_for_all(cluster, {"ada": ada, "bo": bo}, head)
    assert {m["type"] for m in ada.messages("event")} >= {"ticket.updated"}

    # A Celery worker emits with a write-only SocketIO on the message queue; both servers deliver it.
    worker = SocketIO(message_queue=cluster.env["REDIS_URL"], channel=cluster.env["SOCKETIO_CHANNEL"])
    worker.emit("notice", {"from": "worker"}, to=f"department:{cluster.ids['dept_a']}")
    for client in (ada, bo):
        assert client.wait_for("notice", lambda m: m == {"from": "worker"})


def test_one_publisher_publishes_and_a_standby_takes_over(cluster: Cluster, pair: tuple[Client, Client, int]) -> None:
    active, standby = _active_and_standby(cluster)
    ada, bo, head = pair

    for n in range(10):
        cluster.patch_subject(server=0, n=100 + n)
    _wait_for_all(cluster, {"ada": ada, "bo": bo}, head)  # once each: the standby published nothing

    active.send_signal(signal.SIGKILL)
    active.wait()
    for n in range(10):  # committed while no publisher holds the lock
        cluster.patch_subject(server=1, n=200 + n)
    assert wait_until(lambda: cluster.lock_holder() == standby.pid, timeout=WAIT), "the standby did not take the lock"
    # It resumes where the dead one stopped (the position saved in Redis): nothing lost, nothing twice.
    _wait_for_all(cluster, {"ada": ada, "bo": bo}, head)
