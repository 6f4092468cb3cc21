"""Identity across channels (issue 3, item 7): one number over SMS and WhatsApp is one customer.

Driven through the real webhooks: Twilio SMS signed by twilio's RequestValidator, WhatsApp Cloud API
signed with X-Hub-Signature-256 as Meta does. A WhatsApp id is verified by Meta, an SMS sender is
not; two customers are merged by the system only when both identities are verified, otherwise
supervisors get a link suggestion (DESIGN.md, lessons: Chatwoot #4728).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.customers import operations as customer_operations
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind
from service_hub.tickets.models import AuditEvent, Channel, Message, Ticket
from tests.channels.social import provider_api
from tests.channels.social.payloads import META_SECRET, META_TOKEN, PHONE_NUMBER_ID, VERIFY_TOKEN, meta_signature, whatsapp_text
from tests.factories import CustomerFactory, IdentityFactory, MessageFactory, TicketFactory
from tests.inbound.conftest import CUSTOMER  # +8613800138000, the number behind WA_ID 8613800138000


@pytest.fixture
def social_api():  # type: ignore[no-untyped-def]
    state, server = provider_api.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def whatsapp(app, world, login_as, social_api):  # type: ignore[no-untyped-def]
    """send(text, wamid) -> response of a signed WhatsApp Cloud API message webhook from CUSTOMER."""
    response = login_as(world.admin).post(
        "/api/v1/channel-accounts",
        json={
            "kind": "social.whatsapp",
            "name": "WhatsApp",
            "default_department_id": world.dept_a.id,
            "credentials": {"app_secret": META_SECRET, "access_token": META_TOKEN, "verify_token": VERIFY_TOKEN},
            "settings": {"phone_number_id": PHONE_NUMBER_ID, "api_base_url": social_api.url, "graph_version": "v21.0"}
            | {"webhook_base_url": "http://localhost"},
        },
    )
    assert response.status_code == 201, response.json
    client, path = app.test_client(), response.json["webhook_urls"]["message"]

    def send(text: str, wamid: str = "wamid.HBgLODYxMzgwMDEzODAwMBUCABIYFDNBMDAwMDAwMDAwMDAwMDAwMDAA"):  # type: ignore[no-untyped-def]
        body = whatsapp_text(text, message_id=wamid)
        result = client.post(path, data=body, headers={"X-Hub-Signature-256": meta_signature(body)}, content_type="application/json")
        assert result.status_code == 200, result.data
        return result

    return send


def _identities(value: str = CUSTOMER) -> dict[IdentityKind, ContactIdentity]:
    db.session.expire_all()
    return {i.kind: i for i in db.session.scalars(select(ContactIdentity).where(ContactIdentity.value == value))}


def _audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _snapshot() -> dict[str, int]:
    """Everything a contact could add or a merge could lose."""
    db.session.expire_all()
    return {
        "customers": _count(Customer),
        "live customers": _count(Customer, Customer.merged_into_id.is_(None)),
        "identities": _count(ContactIdentity),
        "tickets": _count(Ticket),
        "messages": _count(Message),
        "audit events": _count(AuditEvent),
        "outbox events": _count(OutboxEvent),
    }


def _two_customers(world, *, phone_verified: bool, phone_first: bool = True):  # type: ignore[no-untyped-def]
    """Customer A holds the number as a phone identity, customer B as a (Meta-verified) WhatsApp identity;
    each has a ticket with a message. phone_first: A is the older customer."""

    def holding(kind: IdentityKind, verified: bool) -> Customer:
        customer = CustomerFactory(name=f"{kind.value} customer")
        IdentityFactory(customer=customer, kind=kind, value=CUSTOMER, verified=verified)
        channel = Channel.WHATSAPP if kind == IdentityKind.WHATSAPP else Channel.SMS
        ticket = TicketFactory(customer=customer, department=world.dept_a, channel=channel)
        MessageFactory(ticket=ticket, channel=channel, author_customer_id=customer.id)
        return customer

    if phone_first:
        a = holding(IdentityKind.PHONE, phone_verified)
        b = holding(IdentityKind.WHATSAPP, True)
    else:
        b = holding(IdentityKind.WHATSAPP, True)
        a = holding(IdentityKind.PHONE, phone_verified)
    db.session.commit()
    return a.id, b.id


# --- linking a new identity to the customer who holds the number -----------------------------------


def test_an_sms_customer_writing_on_whatsapp_is_one_customer_with_both_identities(sms, whatsapp, world):
    assert sms.inbound("宽带断了")[0].status_code == 200
    phone = _identities()[IdentityKind.PHONE]
    customer_id = phone.customer_id
    before = _snapshot()

    whatsapp("Still down, writing on WhatsApp now")

    identities = _identities()
    assert set(identities) == {IdentityKind.PHONE, IdentityKind.WHATSAPP}
    assert identities[IdentityKind.WHATSAPP].customer_id == customer_id and identities[IdentityKind.WHATSAPP].verified is True
    assert identities[IdentityKind.PHONE].verified is False
    after = _snapshot()
    assert after["customers"] == before["customers"]  # no new customer
    assert after["tickets"] == before["tickets"] + 1 and after["messages"] == before["messages"] + 1
    (wa_ticket,) = db.session.scalars(select(Ticket).where(Ticket.channel == Channel.WHATSAPP))
    assert wa_ticket.customer_id == customer_id
    (linked,) = _audits("identity.linked")
    assert linked.customer_id == customer_id and linked.actor_via == "system" and linked.actor_id is None
    assert linked.after["identity_id"] == identities[IdentityKind.WHATSAPP].id and linked.after["verified"] is True
    assert linked.after["linked_by"]["identity_id"] == phone.id and "verified by Meta" in linked.after["why"]
    assert _audits("customer.merged") == [] and _audits("customer.link_suggested") == []


def test_a_whatsapp_customer_texting_by_sms_gets_an_unverified_phone_identity(sms, whatsapp, world):
    whatsapp("Hello from WhatsApp")
    customer_id = _identities()[IdentityKind.WHATSAPP].customer_id
    assert _identities()[IdentityKind.WHATSAPP].verified is True  # a first WhatsApp contact: Meta verified the number
    customers_before = _count(Customer)

    sms.inbound("and now by SMS")

    identities = _identities()
    assert identities[IdentityKind.PHONE].customer_id == customer_id
    assert identities[IdentityKind.PHONE].verified is False  # caller IDs and SMS senders can be spoofed
    assert _count(Customer) == customers_before
    assert {t.customer_id for t in db.session.scalars(select(Ticket).where(Ticket.channel.in_((Channel.SMS, Channel.WHATSAPP))))} == {
        customer_id
    }
    (linked,) = _audits("identity.linked")
    assert linked.customer_id == customer_id and linked.after["kind"] == "phone" and linked.after["verified"] is False
    assert linked.after["linked_by"]["kind"] == "whatsapp" and linked.after["why"].startswith("sms.twilio sender +8613800138000")


# --- two customers proven one: merged on verified identities ---------------------------------------


@pytest.mark.parametrize("phone_first", [True, False], ids=["phone-customer-older", "whatsapp-customer-older"])
def test_a_verified_whatsapp_identity_merges_two_customers_into_the_older_losing_nothing(whatsapp, world, phone_first):
    a_id, b_id = _two_customers(world, phone_verified=True, phone_first=phone_first)
    survivor_id, source_id = min(a_id, b_id), max(a_id, b_id)
    their_tickets = set(db.session.scalars(select(Ticket.id).where(Ticket.customer_id.in_((a_id, b_id)))))
    their_messages = set(db.session.scalars(select(Message.id).where(Message.author_customer_id.in_((a_id, b_id)))))
    before = _snapshot()

    whatsapp("It is me, the same person")

    after = _snapshot()
    assert after["customers"] == before["customers"]  # the source stays as a tombstone
    assert after["live customers"] == before["live customers"] - 1
    assert after["identities"] == before["identities"]
    assert after["tickets"] == before["tickets"] + 1 and after["messages"] == before["messages"] + 1
    assert db.session.get(Customer, source_id).merged_into_id == survivor_id
    assert {i.customer_id for i in _identities().values()} == {survivor_id}
    survivor_tickets = set(db.session.scalars(select(Ticket.id).where(Ticket.customer_id == survivor_id)))
    assert their_tickets < survivor_tickets and len(survivor_tickets) == len(their_tickets) + 1
    assert set(db.session.scalars(select(Message.id).where(Message.author_customer_id == survivor_id))) >= their_messages
    (new_ticket,) = db.session.scalars(select(Ticket).where(Ticket.id.not_in(their_tickets), Ticket.channel == Channel.WHATSAPP))
    assert new_ticket.customer_id == survivor_id

    merged = _audits("customer.merged")
    assert sorted(e.customer_id for e in merged) == sorted([survivor_id, source_id])
    reason = f"verified whatsapp identity {CUSTOMER} links customers {survivor_id} and {source_id}"
    for event in merged:
        assert event.actor_via == "system" and event.actor_id is None
        assert event.after["reason"] == reason and event.after["ticket_count"] == 1 and event.after["identity_count"] == 1
    (announced,) = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "customer.merged"))
    assert announced.payload["reason"] == reason and announced.payload["target_id"] == survivor_id
    assert _audits("customer.link_suggested") == []


def test_an_sms_from_a_verified_phone_merges_with_the_verified_whatsapp_customer_too(sms, world):
    a_id, b_id = _two_customers(world, phone_verified=True)
    sms.inbound("texting you")
    assert db.session.get(Customer, b_id).merged_into_id == a_id
    assert {i.customer_id for i in _identities().values()} == {a_id}
    (sms_ticket,) = db.session.scalars(
        select(Ticket).where(Ticket.channel == Channel.SMS, Ticket.customer_id == a_id).order_by(Ticket.id.desc()).limit(1)
    )
    assert sms_ticket.customer_id == a_id


def test_a_repeated_webhook_changes_nothing(whatsapp, world):
    _two_customers(world, phone_verified=True)
    whatsapp("once", wamid="wamid.repeat-me")
    once = _snapshot()
    whatsapp("once", wamid="wamid.repeat-me")  # Meta redelivers the same message
    assert _snapshot() == once
    assert len(_audits("customer.merged")) == 2


def test_a_merge_lost_to_a_concurrent_contact_is_not_made_twice(world):
    """The race loser of two contacts: it locks the pair after the winner committed, finds one customer."""
    a_id, b_id = _two_customers(world, phone_verified=True)
    first = customer_operations.merge_verified(a_id, b_id, "test: first")
    db.session.commit()
    before = _snapshot()
    again = customer_operations.merge_verified(b_id, a_id, "test: second")
    db.session.commit()
    assert first is not None and again is not None and first.id == again.id == a_id
    assert _snapshot() == before
    assert customer_operations.lock_live_customers({a_id, b_id}) == {a_id: again, b_id: again}


# --- unverified evidence: a suggestion for a person --------------------------------------------------


def test_an_unverified_phone_is_not_merged_but_suggested_to_supervisors(whatsapp, world, login_as):
    a_id, b_id = _two_customers(world, phone_verified=False)
    before = _snapshot()

    whatsapp("Hello again")

    after = _snapshot()
    assert after["live customers"] == before["live customers"] and after["identities"] == before["identities"]
    identities = _identities()
    assert identities[IdentityKind.PHONE].customer_id == a_id and identities[IdentityKind.WHATSAPP].customer_id == b_id
    (wa_ticket,) = db.session.scalars(
        select(Ticket).where(Ticket.channel == Channel.WHATSAPP, Ticket.customer_id == b_id).order_by(Ticket.id.desc()).limit(1)
    )
    assert wa_ticket.subject == "Hello again"  # the contact went to the WhatsApp identity's customer
    assert _audits("customer.merged") == []
    suggested = _audits("customer.link_suggested")
    assert sorted(e.customer_id for e in suggested) == sorted([a_id, b_id])
    for event in suggested:
        assert event.actor_via == "system"
        assert event.after["customer_ids"] == sorted([a_id, b_id]) and event.after["value"] == CUSTOMER
        assert event.after["phone"] == {"identity_id": identities[IdentityKind.PHONE].id, "customer_id": a_id, "verified": False}
        assert event.after["whatsapp"]["verified"] is True and "phone identity" in event.after["reason"]
    (outbox,) = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "customer.link_suggested"))
    assert "supervisors" in outbox.rooms and outbox.payload["customer_ids"] == sorted([a_id, b_id])

    whatsapp("Anyone?", wamid="wamid.second-message")  # another contact: the suggestion stands, once
    assert len(_audits("customer.link_suggested")) == 2
    assert _count(OutboxEvent, OutboxEvent.event_type == "customer.link_suggested") == 1

    # A supervisor agrees and merges by hand with the existing API.
    merged = login_as(world.supervisor_a).post(f"/api/v1/customers/{a_id}/merge", json={"source_id": b_id})
    assert merged.status_code == 200, merged.json
    assert {i.customer_id for i in _identities().values()} == {a_id}
    (by_hand, _) = _audits("customer.merged")
    assert by_hand.actor_id == world.supervisor_a.id and "reason" not in by_hand.after
