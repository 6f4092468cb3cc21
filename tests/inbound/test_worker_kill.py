"""SIGKILL a real Celery worker in the middle of processing an inbound message: after a new worker
starts, the message is processed exactly once (RELIABILITY.md, "Faults").

The worker is another process, so the data must be committed: the test uses a database of its own
(migrated by `flask db upgrade` in a subprocess) instead of the per-test rollback, and its own
Redis key prefix and queue, so nothing is shared with other tests or runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from celery import Celery
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from channels.base import HookKind
from service_hub.inbound.models import ChannelAccount, InboundRecord, RecordStatus
from service_hub.org.models import Department, DepartmentKind
from service_hub.tickets.models import Message
from tests.conftest import IN_CI, POSTGRES_ADMIN_URL, REDIS_URL

PROJECT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT = 4  # Redis hands an unacknowledged task to another worker after this long
TIME_LIMIT = 3  # the hard time limit must stay below it (settings refuse otherwise)


@pytest.fixture
def own_database(backend: str) -> Iterator[str]:
    if backend != "postgresql":
        pytest.skip("the worker-kill test needs PostgreSQL (the worker is another process)")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"CI=true and Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"servicehub_kill_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _wait_for(condition: Callable[[], bool], timeout: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    for log in logs:
        print(f"--- {log.name}\n{log.read_text() if log.exists() else ''}")
    pytest.fail(f"timed out waiting for {what}")


def test_a_killed_worker_s_message_is_processed_exactly_once_by_the_next_worker(own_database, tmp_path):
    key = Fernet.generate_key()
    prefix, queue = f"killtest-{uuid.uuid4().hex[:8]}:", f"kill-{uuid.uuid4().hex[:8]}"
    env: dict[str, Any] = {
        **os.environ,
        "DATABASE_URL": own_database,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "k" * 40,
        "CHANNEL_SECRET_KEY": key.decode(),
        "SERVICE_HUB_INSTANCE": str(tmp_path),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CELERY_TASK_TIME_LIMIT": str(TIME_LIMIT),
        "CELERY_KEY_PREFIX": prefix,
        "SOCKETIO_CHANNEL": f"kill-{uuid.uuid4().hex[:8]}",
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service_hub.wsgi", "db", "upgrade"], env=env, cwd=PROJECT, check=True, capture_output=True
    )
    engine = sa.create_engine(own_database)
    with Session(engine) as session:
        department = Department(code="sms-desk", name="SMS desk", kind=DepartmentKind.DEPARTMENT)
        session.add(department)
        session.flush()
        account = ChannelAccount(
            kind="sms.twilio",
            name="SMS",
            slug="kill-test",
            credentials_encrypted=Fernet(key).encrypt(b'{"account_sid": "AC1", "auth_token": "t"}').decode(),
            settings={},
            default_department_id=department.id,
        )
        session.add(account)
        session.flush()
        body = "MessageSid=SMkill1&AccountSid=AC1&From=%2B8613800138000&To=%2B14155550100&Body=%E4%BD%A0%E5%A5%BD&NumSegments=1"
        record = InboundRecord(
            account_id=account.id, provider_message_id="SMkill1", kind=HookKind.MESSAGE, url="http://x", headers={}, body=body.encode()
        )
        session.add(record)
        session.commit()
        record_id = record.id

    def state() -> tuple[RecordStatus, int, int]:
        with Session(engine) as session:
            row = session.get(InboundRecord, record_id)
            assert row is not None
            messages = session.scalar(sa.select(sa.func.count()).select_from(Message)) or 0
            return row.status, row.attempts, messages

    def start_worker(name: str, **extra: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "celery", "-A", "service_hub.celery_worker", "worker", "--pool=solo", "--loglevel=INFO"]
        command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", queue, "-n", f"{name}@%h"]
        log = (tmp_path / f"{name}.log").open("w")
        return subprocess.Popen(command, env=env | extra, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    # The first worker blocks inside the processing transaction, after claiming its attempt.
    first = start_worker("first", INBOUND_TEST_DELAY_SECONDS="120")
    second = None
    client = Celery(broker=REDIS_URL)
    client.conf.broker_transport_options = {"global_keyprefix": prefix, "visibility_timeout": VISIBILITY_TIMEOUT}
    try:
        client.send_task("inbound.process", args=[record_id], queue=queue)
        _wait_for(lambda: state()[1] == 1, 25, "the first worker to start processing", logs)
        time.sleep(0.5)  # well inside its transaction (it sleeps there)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert state() == (RecordStatus.RECEIVED, 1, 0)  # the killed transaction left nothing behind

        second = start_worker("second")
        # Redis hands the unacknowledged task over once the visibility timeout has passed.
        _wait_for(lambda: state()[0] == RecordStatus.PROCESSED, 30, "the second worker to process the record", logs)
        time.sleep(1.0)  # nothing arrives late
        assert state() == (RecordStatus.PROCESSED, 2, 1)
        with Session(engine) as session:
            (message,) = session.scalars(sa.select(Message)).all()
            assert message.body_text == "你好"
            assert session.get(InboundRecord, record_id).message_id == message.id  # type: ignore[union-attr]
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
        engine.dispose()
        keys = redis.Redis.from_url(REDIS_URL)
        for name in keys.scan_iter(f"{prefix}*"):
            keys.delete(name)
