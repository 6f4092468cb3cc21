"""POST /api/v1/customers/<id>/merge: the source's identities, tickets and messages move to the
target, the source stays as a tombstone, both are audited and an outbox event is written."""

from __future__ import annotations

from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind
from service_hub.tickets.models import AuditEvent, Message, Ticket
from tests.factories import CustomerFactory, IdentityFactory, MessageFactory, TicketFactory


def _duplicate_of_alice(world):  # type: ignore[no-untyped-def]
    """A second record of Alice, made by another channel: own identity, ticket and message."""
    dup = CustomerFactory(
        name="A. Wang", customer_number="C-ALICE", language="zh", notes="prefers mornings", attributes={"vip": True, "city": "Shanghai"}
    )
    mail = IdentityFactory(customer=dup, kind=IdentityKind.EMAIL, value="alice@mail.test")
    ticket = TicketFactory(customer=dup, department=world.dept_a)
    message = MessageFactory(ticket=ticket, author_customer_id=dup.id)
    world.alice.notes = "called twice"
    world.alice.attributes = {"city": "Beijing"}
    db.session.flush()
    return dup, mail, ticket, message


def test_merge_moves_identities_tickets_and_messages_and_leaves_a_tombstone(world, api_as):
    dup, mail, dup_ticket, message = _duplicate_of_alice(world)
    alice_id, dup_id = world.alice.id, dup.id
    phone_id, mail_id = world.alice_phone.id, mail.id
    alice_ticket_id, dup_ticket_id, message_id = world.alice_ticket.id, dup_ticket.id, message.id
    version_before = dup_ticket.version
    api = api_as(world.supervisor_a)

    r = api.post(f"/api/v1/customers/{alice_id}/merge", json={"source_id": dup_id})
    assert r.status_code == 200, r.json
    body = r.json
    assert body["id"] == alice_id and body["merged_into_id"] is None
    assert sorted(i["id"] for i in body["identities"]) == sorted([phone_id, mail_id])
    # The source's ticket is now in the survivor's history.
    assert sorted(t["id"] for t in body["tickets"]) == sorted([alice_ticket_id, dup_ticket_id])
    # Empty fields filled from the source, notes joined, attributes merged with the target winning.
    assert body["customer_number"] == "C-ALICE"
    assert body["language"] == "zh"
    assert body["notes"].startswith("called twice") and "prefers mornings" in body["notes"]
    assert body["attributes"] == {"vip": True, "city": "Beijing"}
    assert body["name"] == "Alice Wang"

    db.session.expire_all()
    tomb = db.session.get(Customer, dup_id)
    assert tomb.merged_into_id == alice_id
    assert tomb.identities == []
    assert tomb.customer_number is None  # the unique number moved to the survivor
    assert db.session.scalars(select(ContactIdentity.customer_id).where(ContactIdentity.id == mail_id)).one() == alice_id
    moved = db.session.get(Ticket, dup_ticket_id)
    assert moved.customer_id == alice_id
    assert moved.version == version_before + 1  # editors holding the old copy get a 409
    assert db.session.get(Message, message_id).author_customer_id == alice_id

    # The tombstone still answers, pointing at the survivor.
    tomb_body = api.get(f"/api/v1/customers/{dup_id}").json
    assert tomb_body["merged_into_id"] == alice_id and tomb_body["tickets"] == []
    # Search finds the survivor by the moved identity; the tombstone only when asked for.
    found = api.get("/api/v1/customers", query_string={"q": "alice@mail.test"}).json["items"]
    assert [c["id"] for c in found] == [alice_id]
    listed = api.get("/api/v1/customers", query_string={"q": "A. Wang"}).json["items"]
    assert listed == []
    listed = api.get("/api/v1/customers", query_string={"q": "A. Wang", "include_merged": "true"}).json["items"]
    assert [(c["id"], c["merged_into_id"]) for c in listed] == [(dup_id, alice_id)]


def test_merge_is_audited_on_both_customers_and_announced(world, api_as):
    dup, mail, dup_ticket, _message = _duplicate_of_alice(world)
    alice_id, dup_id, mail_id, dup_ticket_id = world.alice.id, dup.id, mail.id, dup_ticket.id
    supervisor_id = world.supervisor_a.id
    assert api_as(world.supervisor_a).post(f"/api/v1/customers/{alice_id}/merge", json={"source_id": dup_id}).status_code == 200

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.merged").order_by(AuditEvent.id)).all()
    assert {e.customer_id for e in events} == {alice_id, dup_id}
    for event in events:
        assert event.actor_id == supervisor_id and event.actor_via == "session"
        assert event.after["identity_ids"] == [mail_id] and event.after["identity_count"] == 1
        assert event.after["ticket_ids"] == [dup_ticket_id] and event.after["ticket_count"] == 1
        assert event.after["message_count"] == 1
    on_target = next(e for e in events if e.customer_id == alice_id)
    assert on_target.before["customer_number"] is None and on_target.after["customer_number"] == "C-ALICE"
    on_source = next(e for e in events if e.customer_id == dup_id)
    assert on_source.before == {"merged_into_id": None} and on_source.after["merged_into_id"] == alice_id

    outbox = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "customer.merged")).one()
    assert f"customer:{alice_id}" in outbox.rooms
    assert outbox.payload["source_id"] == dup_id and outbox.payload["ticket_ids"] == [dup_ticket_id]


def test_merge_needs_supervisor_or_admin(world, api_as):
    dup = CustomerFactory(name="Dup")
    alice_id, dup_id = world.alice.id, dup.id
    for agent in (world.agent_a, world.back_office_a):
        r = api_as(agent).post(f"/api/v1/customers/{alice_id}/merge", json={"source_id": dup_id})
        assert r.status_code == 403, agent.role
    db.session.expire_all()
    assert db.session.get(Customer, dup_id).merged_into_id is None
    assert api_as(world.admin).post(f"/api/v1/customers/{alice_id}/merge", json={"source_id": dup_id}).status_code == 200


def test_merge_into_itself_or_a_tombstone_or_twice_is_refused(world, api_as):
    first, second, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    ids = first.id, second.id, third.id
    api = api_as(world.admin)
    r = api.post(f"/api/v1/customers/{ids[0]}/merge", json={"source_id": ids[0]})
    assert r.status_code == 422 and "itself" in r.json["detail"]
    assert api.post(f"/api/v1/customers/{ids[0]}/merge", json={"source_id": ids[1]}).status_code == 200
    # Into the tombstone: refused, pointing at the survivor.
    r = api.post(f"/api/v1/customers/{ids[1]}/merge", json={"source_id": ids[2]})
    assert r.status_code == 409 and f"customer {ids[0]}" in r.json["detail"]
    # The tombstone again as a source: refused.
    r = api.post(f"/api/v1/customers/{ids[2]}/merge", json={"source_id": ids[1]})
    assert r.status_code == 409 and "already merged" in r.json["detail"]
    # Unknown source: 404; unknown field: 422.
    assert api.post(f"/api/v1/customers/{ids[0]}/merge", json={"source_id": 999999}).status_code == 404
    assert api.post(f"/api/v1/customers/{ids[0]}/merge", json={"source_id": ids[2], "keep": "name"}).status_code == 422


def test_older_tombstones_follow_to_the_new_survivor(world, api_as):
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    a_id, b_id, c_id = a.id, b.id, c.id
    api = api_as(world.admin)
    assert api.post(f"/api/v1/customers/{b_id}/merge", json={"source_id": a_id}).status_code == 200
    assert api.post(f"/api/v1/customers/{c_id}/merge", json={"source_id": b_id}).status_code == 200
    assert api.get(f"/api/v1/customers/{a_id}").json["merged_into_id"] == c_id
    assert api.get(f"/api/v1/customers/{b_id}").json["merged_into_id"] == c_id


def test_a_tombstone_is_read_only(world, api_as):
    survivor, dup = CustomerFactory(), CustomerFactory()
    mail = IdentityFactory(customer=dup)
    survivor_id, dup_id, mail_id = survivor.id, dup.id, mail.id
    api = api_as(world.admin)
    assert api.post(f"/api/v1/customers/{survivor_id}/merge", json={"source_id": dup_id}).status_code == 200
    r = api.patch(f"/api/v1/customers/{dup_id}", json={"name": "Zombie"})
    assert r.status_code == 409 and r.json["errors"]["merged_into_id"] == survivor_id
    assert api.post(f"/api/v1/customers/{dup_id}/identities", json={"kind": "email", "value": "z@z.test"}).status_code == 409
    # The moved identity is managed on the survivor now.
    assert api.delete(f"/api/v1/customers/{dup_id}/identities/{mail_id}").status_code == 409
    assert api.delete(f"/api/v1/customers/{survivor_id}/identities/{mail_id}").status_code == 204


def test_merge_moves_value_records_adds_up_a_shared_month_and_rescoring_follows(world, api_as):
    from datetime import date
    from decimal import Decimal

    from service_hub.value.models import DirtyCustomer, MonthlyRevenue, Transaction

    dup, *_ = _duplicate_of_alice(world)
    alice_id, dup_id = world.alice.id, dup.id
    db.session.add_all(
        [
            Transaction(customer_id=dup_id, dedupe_key="dup-1", occurred_on=date(2026, 10, 1), amount=Decimal("50")),
            MonthlyRevenue(customer_id=alice_id, month=date(2026, 10, 1), arpu=Decimal("100")),
            MonthlyRevenue(customer_id=dup_id, month=date(2026, 10, 1), arpu=Decimal("30")),
            MonthlyRevenue(customer_id=dup_id, month=date(2026, 9, 1), arpu=Decimal("30")),
        ]
    )
    db.session.flush()
    r = api_as(world.supervisor_a).post(f"/api/v1/customers/{alice_id}/merge", json={"source_id": dup_id})
    assert r.status_code == 200, r.json
    db.session.expire_all()
    assert db.session.scalars(select(Transaction.customer_id).where(Transaction.dedupe_key == "dup-1")).one() == alice_id
    months = {m.month: m.arpu for m in db.session.scalars(select(MonthlyRevenue))}
    assert months == {date(2026, 10, 1): Decimal("130"), date(2026, 9, 1): Decimal("30")}
    assert all(m.customer_id == alice_id for m in db.session.scalars(select(MonthlyRevenue)))
    assert [d.customer_id for d in db.session.scalars(select(DirtyCustomer))] == [alice_id]
