"""A real Celery worker over Redis runs a task against the database, in the app context."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from service_hub.core.types import utcnow
from tests.conftest import IN_CI, REDIS_URL


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"CI=true and Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")


def test_worker_prunes_the_outbox(backend, database_url, app, tmp_path):
    if backend != "postgresql":
        pytest.skip("the worker runs in production mode, which needs PostgreSQL")
    _redis_or_skip()
    # A queue of its own, so parallel test runs on this Redis never take each other's tasks.
    queue = f"test-{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(database_url)
    old = utcnow() - timedelta(days=30)
    with engine.begin() as conn:  # committed: the worker is another process
        conn.execute(
            sa.text(
                "INSERT INTO outbox_events (event_type, rooms, payload, created_at) VALUES ('old', '[]', '{}', :t), ('new', '[]', '{}', now())"
            ),
            {"t": old},
        )
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "w" * 40,
        "CHANNEL_SECRET_KEY": "0" * 43 + "=",  # issue 3: production needs a key for channel credentials
        "SERVICE_HUB_INSTANCE": str(tmp_path),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "service_hub.celery_worker",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            queue,
        ],
        env=env,
        stdout=(tmp_path / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        from service_hub.core.celery_app import Celery

        client = Celery(broker=REDIS_URL, backend=REDIS_URL)
        result = client.send_task("core.prune_outbox", queue=queue)
        try:
            deleted = result.get(timeout=60)
        except Exception:
            print((tmp_path / "worker.log").read_text())
            raise
        assert deleted == 1
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT event_type FROM outbox_events")).scalars().all() == ["new"]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        with engine.begin() as conn:
            # This engine has no SQLite foreign_keys pragma, so the rooms do not cascade by themselves.
            conn.execute(sa.text("DELETE FROM outbox_event_rooms"))
            conn.execute(sa.text("DELETE FROM outbox_events"))
        engine.dispose()
