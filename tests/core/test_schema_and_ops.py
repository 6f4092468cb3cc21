import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from service_hub.core.extensions import db
from tests.factories import TicketFactory


def test_migrations_match_the_models(app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite reflection cannot compare expression indexes; PostgreSQL is the reference")
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_audit_trail_is_append_only_in_the_database(app, backend, world):
    if backend != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; the ORM guard covers SQLite")
    db.session.execute(text("INSERT INTO audit_events (action, actor_via, created_at) VALUES ('x', 'system', now())"))
    with pytest.raises(Exception, match="append-only"), db.session.begin_nested():
        db.session.execute(text("UPDATE audit_events SET action = 'y'"))


def test_readyz_reports_database(client):
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["checks"]["database"] == "ok"


def test_request_id_is_echoed_and_in_errors(client):
    r = client.get("/api/v1/me", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123" and r.json["request_id"] == "abc-123"
    bad = client.get("/api/v1/me", headers={"X-Request-ID": "bad id <script>"})
    assert bad.headers["X-Request-ID"] != "bad id <script>" and len(bad.headers["X-Request-ID"]) == 32


def test_metrics_need_a_token_with_the_metrics_scope(world, client):
    from service_hub.auth.operations import create_token

    TicketFactory()
    assert client.get("/metrics").status_code == 401
    _, secret = create_token(world.admin, "prom", ["metrics:read"], None)
    r = client.get("/metrics", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and b"servicehub_http_request_seconds" in r.data
