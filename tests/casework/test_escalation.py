"""The escalation ladder fires warning, breach and supervision once each, even from two processes."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import select

from service_hub.casework import sla_clocks
from service_hub.casework.escalation import run_escalations
from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.customers.models import Tier
from tests.factories import TicketFactory

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _events(kind):
    return db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == kind)).all()


def test_ladder_fires_each_rung_once_in_order(world):
    ticket = TicketFactory(department=world.dept_a, tier=Tier.DIAMOND, assignee=world.agent_a)  # first response 5 min
    sla_clocks.start_ticket_clocks(ticket, T0)
    db.session.commit()
    assert run_escalations(T0 + timedelta(minutes=3)).warned == 0
    run = run_escalations(T0 + timedelta(minutes=4))  # 75 % of 5 minutes is 3m45s
    assert (run.warned, run.breached) == (1, 0)
    assert run_escalations(T0 + timedelta(minutes=4, seconds=30)).warned == 0
    run = run_escalations(T0 + timedelta(minutes=6))
    assert (run.warned, run.breached, run.supervised) == (0, 1, 0)
    run = run_escalations(T0 + timedelta(hours=2))  # supervision an hour after the breach
    assert run.supervised == 1
    assert run_escalations(T0 + timedelta(hours=3)).supervised == 0
    warning = _events("sla.warning")
    assert len(warning) == 1 and warning[0].payload["clock"] == "first_response"
    assert f"agent:{world.agent_a.id}" in warning[0].rooms and "supervisors" in warning[0].rooms
    assert len(_events("sla.breached")) == 1 and len(_events("sla.supervise")) == 1


def test_paused_clock_does_not_escalate(world):
    ticket = TicketFactory(department=world.dept_a, tier=Tier.DIAMOND)
    sla_clocks.start_ticket_clocks(ticket, T0)
    from service_hub.tickets.models import TicketStatus

    sla_clocks.on_status_change(ticket, TicketStatus.OPEN, TicketStatus.PENDING, T0 + timedelta(minutes=1))
    db.session.commit()
    run = run_escalations(T0 + timedelta(days=1))
    assert (run.warned, run.breached, run.supervised) == (0, 0, 0)


def test_two_scheduler_processes_fire_each_rung_exactly_once(app, database_url, backend, tmp_path):
    """Committed clocks, two real `flask sla-escalate` processes at the same moment, many times."""
    engine = sa.create_engine(database_url)
    past = datetime.now(UTC) - timedelta(days=2)
    with engine.begin() as conn:
        centre = conn.execute(
            sa.text(
                "INSERT INTO departments (code, name, kind, is_active, created_at) VALUES ('esc-c', 'C', 'centre', true, :t) RETURNING id"
            ),
            {"t": past},
        ).scalar()
        customer = conn.execute(
            sa.text(
                "INSERT INTO customers (name, tier, attributes, created_at, updated_at) VALUES ('C', 'normal', '{}', :t, :t) RETURNING id"
            ),
            {"t": past},
        ).scalar()
        for n in range(40):
            ticket = conn.execute(
                sa.text(
                    "INSERT INTO tickets (number, subject, status, priority, channel, customer_id, department_id, tier, custom_fields, version, created_at, updated_at) "
                    "VALUES (:n, 's', 'open', 2, 'sms', :c, :d, 'normal', '{}', 1, :t, :t) RETURNING id"
                ),
                {"n": 5_000_000 + n, "c": customer, "d": centre, "t": past},
            ).scalar()
            conn.execute(
                sa.text(
                    "INSERT INTO sla_clocks (ticket_id, kind, calendar_key, status, target_seconds, warning_share, business_seconds_used, started_at, running_since, due_at, warn_at, supervise_after_seconds) "
                    "VALUES (:tk, 'resolution', '24x7', 'running', 3600, 0.75, 0, :t, :t, :due, :warn, 60)"
                ),
                {"tk": ticket, "t": past, "due": past + timedelta(hours=1), "warn": past + timedelta(minutes=45)},
            )
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "e" * 40, "SERVICE_HUB_INSTANCE": str(tmp_path)}
    try:
        # Round 1 warns and breaches; supervision is then made due, so round 2 supervises; round 3 finds nothing.
        for _ in range(3):
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "service_hub.wsgi", "sla-escalate"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                for _ in range(2)
            ]
            for p in procs:
                _, err = p.communicate(timeout=120)
                assert p.returncode == 0, err.decode()[-2000:]
            with engine.begin() as conn:  # let supervision fall due for the next round
                conn.execute(
                    sa.text("UPDATE sla_clocks SET supervise_at = :t WHERE supervise_at IS NOT NULL AND supervised_at IS NULL"), {"t": past}
                )
        with engine.connect() as conn:
            counts = dict(
                conn.execute(
                    sa.text("SELECT event_type, count(*) FROM outbox_events WHERE event_type LIKE 'sla.%' GROUP BY event_type")
                ).all()
            )
        assert counts == {"sla.warning": 40, "sla.breached": 40, "sla.supervise": 40}
    finally:
        with engine.begin() as conn:
            # outbox_event_rooms first: this engine has no SQLite foreign_keys pragma to cascade.
            for table in (
                "outbox_event_rooms",
                "outbox_events",
                "audit_events",
                "sla_clock_events",
                "sla_clocks",
                "tickets",
                "customers",
                "departments",
            ):
                if table == "audit_events" and backend == "postgresql":
                    conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
                conn.execute(sa.text(f"DELETE FROM {table}"))
                if table == "audit_events" and backend == "postgresql":
                    conn.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change"))
        engine.dispose()
