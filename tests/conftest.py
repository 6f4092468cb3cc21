"""Test fixtures: one migrated database per run (SQLite or PostgreSQL), a clean transaction per test.

`pytest --db=sqlite` (default) or `pytest --db=postgresql`. The PostgreSQL run uses a throwaway
database on TEST_POSTGRES_URL (default 127.0.0.1:5432); if it is unreachable the run is skipped,
unless CI=true, where an unreachable service is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from config.settings import Settings
from service_hub import create_app
from service_hub.core.extensions import db, limiter

pytest_plugins = ["tests.world"]

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite", help="database backend for this run")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.exit(f"CI=true and a required service is unreachable: {reason}", returncode=3)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"servicehub_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        _unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {exc.orig}")
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def make_settings(database_url: str, instance: Path, **env: str) -> Settings:
    return Settings.from_env(
        {"DATABASE_URL": database_url, "SECRET_KEY": "t" * 40, "LOGIN_RATE_LIMIT": "1000 per minute", **env}, instance_path=instance
    )


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(make_settings(database_url, instance), overrides={"TESTING": True})
    with application.app_context():
        upgrade()  # the real migrations, not create_all: they are what production runs
    yield application
    with application.app_context():
        db.engine.dispose()


class _TestSession(scoped_session):  # type: ignore[type-arg]
    """Survives Flask-SQLAlchemy's per-request remove(), so objects a test holds stay attached."""

    def remove(self) -> None:
        pass


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs inside one outer transaction that is rolled back; commits become savepoints.

    No app context stays pushed during the test: each request gets its own, with its own `g`,
    as in production.
    """
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
        limiter.reset()
    # A test that built another app (production settings, a served app) made its Celery the
    # default; shared tasks sent by this test must go to this app's (eager) Celery again.
    application.extensions["celery"].set_default()
    application.extensions["celery"].set_current()
    outer = connection.begin()
    original = db.session
    db.session = _TestSession(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
    try:
        yield
    finally:
        scoped_session.remove(db.session)
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class ApiClient:
    """A test client logged in as one agent, sending the CSRF token like the browser app does."""

    def __init__(self, client: FlaskClient, csrf_token: str) -> None:
        self.client = client
        self.csrf_token = csrf_token

    def _send(self, method: str, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        headers.setdefault("X-CSRFToken", self.csrf_token)
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self._send("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self._send("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self._send("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self._send("DELETE", url, **kwargs)


def login(app: Flask, email: str, password: str) -> ApiClient:
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.json
    return ApiClient(client, response.json["csrf_token"])


@pytest.fixture
def login_as(app: Flask):  # type: ignore[no-untyped-def]
    """login_as(agent) -> an ApiClient with that agent's browser session."""
    from tests.factories import PASSWORD

    def _login(agent) -> ApiClient:  # type: ignore[no-untyped-def]
        db.session.commit()
        return login(app, agent.email, PASSWORD)

    return _login
