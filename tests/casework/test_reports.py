"""The SLA report counts what the clocks recorded, per department and per agent, within scope."""

from datetime import UTC, datetime, timedelta

from service_hub.casework import sla_clocks
from service_hub.casework.escalation import run_escalations
from service_hub.core.extensions import db
from service_hub.customers.models import Tier
from service_hub.tickets.models import TicketStatus
from tests.factories import TicketFactory

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _ticket(world, dept, **kw):
    t = TicketFactory(department=dept, tier=Tier.DIAMOND, created_at=T0, **kw)  # Diamond: 5 min first response, 8 h resolution
    sla_clocks.start_ticket_clocks(t, T0)
    return t


def test_report_per_department(world, login_as):
    met = _ticket(world, world.dept_a, assignee=world.agent_a)
    sla_clocks.on_agent_reply(met, T0 + timedelta(minutes=2))
    sla_clocks.on_status_change(met, TicketStatus.OPEN, TicketStatus.SOLVED, T0 + timedelta(hours=1))
    met.status = TicketStatus.SOLVED
    late = _ticket(world, world.dept_a)
    sla_clocks.on_agent_reply(late, T0 + timedelta(minutes=10))
    _ticket(world, world.dept_b)  # another centre: outside the supervisor's scope
    db.session.commit()
    run_escalations(T0 + timedelta(hours=9))  # the open one breaches its resolution
    q = f"from={T0 - timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}&to={T0 + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"
    rows = login_as(world.supervisor_a).get(f"/api/v1/reports/sla?{q}").json
    assert [r["name"] for r in rows] == [world.dept_a.name]
    (row,) = rows
    # world.ticket_a (no clocks) counts too; 'late' missed its first response and then its resolution.
    assert row["tickets"] == 3 and row["open"] == 2 and row["breached"] == 1
    assert row["resolution_met_percent"] == 100.0  # of the stopped resolution clocks, one, met
    assert row["avg_first_response_seconds"] == (120 + 600) / 2
    assert row["avg_resolution_seconds"] == 3600
    by_agent = login_as(world.supervisor_a).get(f"/api/v1/reports/sla?{q}&group_by=agent").json
    assert {r["id"] for r in by_agent} == {world.agent_a.id, None}


def test_agents_may_not_read_reports(world, login_as):
    r = login_as(world.agent_a).get("/api/v1/reports/sla?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z")
    assert r.status_code == 403
