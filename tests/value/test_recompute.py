"""Running the value model: the CLI, the task, the first incremental run, and runs that would overlap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.value import recompute, scoring
from service_hub.value.models import CustomerScore, DirtyCustomer, Transaction, ValueRun
from service_hub.value.tasks import recompute_task
from tests.factories import CustomerFactory


def _buyer(amount: str = "120") -> int:
    customer = CustomerFactory()
    db.session.flush()
    db.session.add(Transaction(customer_id=customer.id, dedupe_key=f"k{customer.id}", occurred_on=date.today(), amount=Decimal(amount)))
    db.session.add(DirtyCustomer(customer_id=customer.id))
    db.session.commit()
    return customer.id


def test_cli_recomputes_and_reports(app):
    customer_id = _buyer()
    out = app.test_cli_runner().invoke(args=["value", "recompute", "--full"])
    assert out.exit_code == 0, out.output
    assert "full run" in out.output and "stage:" in out.output
    score = db.session.get(CustomerScore, customer_id)
    assert score is not None and score.frequency == 1
    finished = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "value.run.finished")).one()
    assert finished.rooms == ["supervisors"] and finished.payload["kind"] == "full"


def test_the_first_incremental_run_is_a_full_one_and_the_next_is_incremental(app):
    _buyer()
    first = recompute_task.delay("incremental").get()
    assert first["kind"] == "full"
    second_id = _buyer("50")
    second = recompute_task.delay("incremental").get()
    assert (second["kind"], second["customers"]) == ("incremental", 1)
    assert db.session.get(CustomerScore, second_id).run_id == second["run_id"]
    assert [r.kind for r in db.session.scalars(select(ValueRun).order_by(ValueRun.id))] == ["full", "incremental"]


def test_a_run_while_another_holds_the_lock_is_refused(app, backend, database_url):
    if backend != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite has one writer at a time")
    _buyer()
    other = sa.create_engine(database_url)
    with other.connect() as conn, conn.begin():
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": scoring._RUN_LOCK})
        with pytest.raises(scoring.RunInProgress):
            recompute.run("full")
        assert recompute_task.delay("full").get() is None  # the scheduler's run just skips
    other.dispose()
    assert recompute.run("full").customers >= 1


def test_supervisors_start_a_run_over_the_api_and_see_it_listed(world, login_as):
    customer_id = _buyer()
    api = login_as(world.supervisor_a)
    r = api.post("/api/v1/value/runs", json={"kind": "full"})
    assert r.status_code == 202, r.json
    assert r.json["result"]["kind"] == "full"  # embedded: the task ran in process
    assert db.session.get(CustomerScore, customer_id) is not None
    runs = api.get("/api/v1/value/runs").json
    assert runs[0]["id"] == r.json["result"]["run_id"] and runs[0]["status"] == "done"
    assert login_as(world.agent_a).post("/api/v1/value/runs", json={"kind": "full"}).status_code == 403
    assert api.post("/api/v1/value/runs", json={"kind": "everything"}).status_code == 422
