"""SLA clocks on tickets: chosen by tier and priority, paused while waiting, stopped by a reply."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service_hub.casework import sla_clocks
from service_hub.casework.models import SlaClock, SlaClockEvent
from service_hub.core.extensions import db
from service_hub.customers.models import Tier
from service_hub.tickets.models import Priority, Ticket, TicketStatus
from tests.factories import CustomerFactory, TicketFactory

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai


def _clock(ticket, kind):
    return db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id, SlaClock.kind == kind)).one()


def test_policy_follows_tier_and_priority(world):
    diamond = TicketFactory(department=world.dept_a, tier=Tier.DIAMOND)
    urgent = TicketFactory(department=world.dept_a, priority=Priority.URGENT)
    normal = TicketFactory(department=world.dept_a)
    assert sla_clocks.policy_for(diamond).name == "Diamond"
    assert sla_clocks.policy_for(urgent).name == "Urgent"
    assert sla_clocks.policy_for(normal).name == "Default"


def test_clocks_start_and_set_the_ticket_due_times(world):
    ticket = TicketFactory(department=world.dept_a, tier=Tier.DIAMOND)
    sla_clocks.start_ticket_clocks(ticket, T0)
    assert ticket.first_response_due_at == T0 + timedelta(minutes=5)  # Diamond, 24x7
    assert ticket.resolution_due_at == T0 + timedelta(hours=8)
    assert ticket.next_due_at == ticket.first_response_due_at


def test_office_calendar_counts_business_hours_only(world):
    ticket = TicketFactory(department=world.dept_a)  # Default: 4 business hours, office-cn
    friday_1630_shanghai = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    sla_clocks.start_ticket_clocks(ticket, friday_1630_shanghai)
    # 1.5 h on Friday, then Monday 09:00-11:30 Shanghai.
    assert ticket.first_response_due_at == datetime(2026, 11, 30, 3, 30, tzinfo=UTC)


def test_pending_pauses_and_open_resumes_with_the_due_time_moved(world):
    ticket = TicketFactory(department=world.dept_a, tier=Tier.GOLD)  # Gold: resolution 24 h, 24x7
    sla_clocks.start_ticket_clocks(ticket, T0)
    sla_clocks.on_status_change(ticket, TicketStatus.OPEN, TicketStatus.PENDING, T0 + timedelta(hours=2))
    resolution = _clock(ticket, "resolution")
    assert resolution.status == "paused" and resolution.business_seconds_used == 2 * 3600
    assert ticket.next_due_at is None and ticket.resolution_due_at is None
    sla_clocks.on_status_change(ticket, TicketStatus.PENDING, TicketStatus.OPEN, T0 + timedelta(hours=5))
    assert resolution.status == "running"
    assert ticket.resolution_due_at == T0 + timedelta(hours=27)  # three paused hours added
    kinds = db.session.scalars(select(SlaClockEvent.kind).where(SlaClockEvent.clock_id == resolution.id).order_by(SlaClockEvent.id)).all()
    assert kinds == ["started", "paused", "resumed"]


def test_reply_meets_first_response_and_solve_stops_resolution(world, login_as):
    customer = CustomerFactory(tier=Tier.GOLD)
    api = login_as(world.agent_a)
    created = api.post(
        "/api/v1/tickets", json={"subject": "No signal", "department_id": world.dept_a.id, "customer_id": customer.id, "channel": "sms"}
    ).json
    assert created["tier"] == "gold" and created["first_response_due_at"] is not None
    api.post(f"/api/v1/tickets/{created['id']}/messages", json={"kind": "reply", "body_text": "Looking into it"})
    ticket = db.session.get(Ticket, created["id"])
    assert _clock(ticket, "first_response").status == "met"
    assert ticket.first_response_due_at is None and ticket.next_due_at == ticket.resolution_due_at
    version = api.get(f"/api/v1/tickets/{ticket.id}").json["version"]
    assert api.patch(f"/api/v1/tickets/{ticket.id}", json={"version": version, "status": "solved"}).status_code == 200
    db.session.expire_all()
    assert _clock(ticket, "resolution").status == "met"
    assert db.session.get(Ticket, ticket.id).next_due_at is None


def test_a_tier_change_gives_the_next_ticket_a_faster_sla(world, login_as):
    customer = CustomerFactory(tier=Tier.NORMAL)
    api = login_as(world.agent_a)
    before = api.post("/api/v1/tickets", json={"subject": "a", "department_id": world.dept_a.id, "customer_id": customer.id}).json
    customer.tier = Tier.DIAMOND
    db.session.commit()
    after = api.post("/api/v1/tickets", json={"subject": "b", "department_id": world.dept_a.id, "customer_id": customer.id}).json
    assert after["tier"] == "diamond" and before["tier"] == "normal"
    span = lambda t: datetime.fromisoformat(t["first_response_due_at"]) - datetime.fromisoformat(t["created_at"])  # noqa: E731
    assert span(after) == timedelta(minutes=5) and span(after) < span(before)
