"""A real `flask serve` on its own SQLite file for presence and supervisor-stream tests, and its world.

Same pattern as test_rooms_and_catch_up: the server runs in its own process (create_app() binds
module-level extensions), seeded by seed_main() in a subprocess; tests talk to it with real
python-socketio clients and HTTP, and read its database through their own engine.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import socketio
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60
WAIT = 10.0


def seed_main() -> None:
    """Two centres; in centre A two agents and a supervisor, in centre B one agent; a ticket on each side."""
    from flask_migrate import upgrade

    from service_hub import create_app
    from service_hub.auth.operations import create_token
    from service_hub.core.extensions import db
    from service_hub.org.models import DepartmentKind, Presence, Role
    from tests.factories import AgentFactory, DepartmentFactory, TicketFactory

    app = create_app()
    with app.app_context():
        upgrade()
        centre_a = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre A")
        centre_b = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre B")
        dept_a = DepartmentFactory(parent=centre_a, name="Billing A")
        dept_b = DepartmentFactory(parent=centre_b, name="Billing B")
        ada = AgentFactory(name="Ada", departments=[dept_a], presence=Presence.OFFLINE)
        bo = AgentFactory(name="Bo", departments=[dept_a], presence=Presence.OFFLINE)
        cy = AgentFactory(name="Cy", departments=[dept_b], presence=Presence.OFFLINE)
        supervisor = AgentFactory(name="Sue", role=Role.SUPERVISOR, departments=[centre_a])
        ticket_a = TicketFactory(department=dept_a)
        ticket_b = TicketFactory(department=dept_b)
        db.session.commit()
        scopes = ["tickets:read", "tickets:write"]
        seeded = {
            "centre_a": centre_a.id,
            "centre_b": centre_b.id,
            "dept_a": dept_a.id,
            "dept_b": dept_b.id,
            "ada": ada.id,
            "bo": bo.id,
            "cy": cy.id,
            "ticket_a": ticket_a.id,
            "ticket_b": ticket_b.id,
            "customer_a": ticket_a.customer_id,
            "ada_token": create_token(ada, "rt", scopes, None)[1],
            "bo_token": create_token(bo, "rt", scopes, None)[1],
            "cy_token": create_token(cy, "rt", scopes, None)[1],
            "supervisor_token": create_token(supervisor, "rt", scopes, None)[1],
        }
    print(json.dumps(seeded), flush=True)


@dataclass
class Served:
    url: str
    engine: sa.Engine
    ids: dict[str, Any]

    def http(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=WAIT) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(instance: Path, extra_env: dict[str, str], seed_module: str = "tests.realtime.served_app") -> Iterator[Served]:
    """Seed with `seed_module`'s seed_main() (it prints the ids as JSON), then serve until the block ends."""
    database_url = f"sqlite:///{instance / 'rt.sqlite3'}"
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "embedded",
        "SERVICE_HUB_INSTANCE": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "r" * 40,
        "PYTHONPATH": str(ROOT),
        **extra_env,
    }
    env.pop("REDIS_URL", None)
    seed = subprocess.run(
        [sys.executable, "-c", f"from {seed_module} import seed_main; seed_main()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert seed.returncode == 0, seed.stderr[-3000:]
    ids = json.loads(seed.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = instance / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "service_hub.wsgi", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    engine = sa.create_engine(database_url)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start:\n{log.read_text()}", pytrace=False)
                time.sleep(0.1)
        yield Served(url, engine, ids)
    finally:
        engine.dispose()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Client:
    """A connected socketio.Client recording every message of the names it is told to watch."""

    def __init__(self, served: Served, token: str, watch: tuple[str, ...] = ("presence", "collision", "supervisor.snapshot")) -> None:
        self.client = socketio.Client(reconnection=False)
        self.received: dict[str, list[tuple[float, Any]]] = {name: [] for name in watch}
        self._arrived = threading.Condition()
        for name in watch:
            self.client.on(name, self._recorder(name))
        self.client.connect(served.url, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT)

    def _recorder(self, name: str) -> Callable[[Any], None]:
        def record(message: Any) -> None:
            with self._arrived:
                self.received[name].append((time.monotonic(), message))
                self._arrived.notify_all()

        return record

    def call(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.call(event, data or {}, timeout=WAIT)  # type: ignore[no-any-return]

    def messages(self, name: str) -> list[Any]:
        with self._arrived:
            return [m for _, m in self.received[name]]

    def wait_for(self, name: str, predicate: Callable[[Any], bool], timeout: float = WAIT, since: int = 0) -> Any:
        """The first message of that name (from the since-th on) satisfying predicate, waiting for it if need be."""
        with self._arrived:
            found: list[Any] = []

            def check() -> bool:
                found[:] = [m for _, m in self.received[name][since:] if predicate(m)]
                return bool(found)

            assert self._arrived.wait_for(check, timeout=timeout), f"no matching {name!r}; got {self.received[name]}"
            return found[0]

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def wait_until(condition: Callable[[], bool], timeout: float = WAIT, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
