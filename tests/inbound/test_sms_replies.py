"""SMS end to end: a signed inbound webhook, the ticket in the API, an agent's reply through the provider's
REST API (a local recording server), the signed status callback; opt-out and provider failures."""

from __future__ import annotations

import base64
from datetime import timedelta

from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound.models import IdentityOptOut, OutboundDelivery, OutboundStatus
from tests.inbound.conftest import CUSTOMER, OUR_NUMBER, SID, TOKEN


def _open_ticket(api, sms) -> dict:  # type: ignore[no-untyped-def]
    response, _ = sms.inbound("我的宽带坏了, 请帮忙 🙏")
    assert response.status_code == 200
    items = api.get("/api/v1/tickets?channel=sms").json["items"]
    assert len(items) == 1
    return items[0]


def _reply(api, ticket_id: int, text: str):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/tickets/{ticket_id}/messages", json={"kind": "reply", "body_text": text})


def _delivery(message_id: int) -> OutboundDelivery:
    db.session.expire_all()
    return db.session.scalars(select(OutboundDelivery).where(OutboundDelivery.message_id == message_id)).one()


def _message(api, ticket_id: int, message_id: int) -> dict:  # type: ignore[no-untyped-def]
    items = api.get(f"/api/v1/tickets/{ticket_id}/messages").json["items"]
    return next(m for m in items if m["id"] == message_id)


def test_inbound_ticket_reply_out_and_delivery_status_back(sms, world, login_as, provider):
    agent = login_as(world.agent_a)
    ticket = _open_ticket(agent, sms)
    assert ticket["channel"] == "sms"

    reply = _reply(agent, ticket["id"], "您好, 我们已安排师傅上门 🔧")
    assert reply.status_code == 201, reply.json
    (sent,) = provider.requests
    assert sent.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    status_url = f"http://localhost{sms.account['webhook_urls']['status']}"
    assert sent.form == {"To": CUSTOMER, "From": OUR_NUMBER, "Body": "您好, 我们已安排师傅上门 🔧", "StatusCallback": status_url}

    delivery = _delivery(reply.json["id"])
    assert delivery.status == OutboundStatus.SENT and delivery.provider_message_id.startswith("SM")
    assert _message(agent, ticket["id"], reply.json["id"])["delivery_status"] == "sent"

    assert sms.status(delivery.provider_message_id, "delivered").status_code == 204
    assert _message(agent, ticket["id"], reply.json["id"])["delivery_status"] == "delivered"
    # A late "sent" (callbacks arrive out of order) does not take it back.
    assert sms.status(delivery.provider_message_id, "sent").status_code == 204
    assert _message(agent, ticket["id"], reply.json["id"])["delivery_status"] == "delivered"
    # The same callback twice is acknowledged and changes nothing.
    assert sms.status(delivery.provider_message_id, "delivered").status_code == 204


def test_an_undelivered_callback_marks_the_reply_failed_with_the_error(sms, world, login_as):
    agent = login_as(world.agent_a)
    ticket = _open_ticket(agent, sms)
    reply = _reply(agent, ticket["id"], "hello")
    delivery = _delivery(reply.json["id"])
    sms.status(delivery.provider_message_id, "undelivered", ErrorCode="30003", ErrorMessage="Unreachable destination handset")
    message = _message(agent, ticket["id"], reply.json["id"])
    assert message["delivery_status"] == "failed" and message["delivery_error"].startswith("30003: Unreachable")


def test_stop_refuses_replies_until_start(sms, world, login_as, provider):
    agent = login_as(world.agent_a)
    ticket = _open_ticket(agent, sms)
    sms.inbound("STOP")
    refused = _reply(agent, ticket["id"], "are you sure?")
    assert refused.status_code == 409 and refused.json["type"].endswith("recipient-opted-out")
    assert provider.requests == []
    assert len(agent.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"]) == 2  # the refused reply left nothing

    sms.inbound("退订")  # already out: still one opt-out
    assert db.session.scalar(select(IdentityOptOut.keyword)) == "STOP"
    sms.inbound("start")
    assert _reply(agent, ticket["id"], "welcome back").status_code == 201
    assert [r.form["Body"] for r in provider.requests] == ["welcome back"]


def test_full_width_and_chinese_opt_out_keywords(sms, world, login_as):
    agent = login_as(world.agent_a)
    ticket = _open_ticket(agent, sms)
    sms.inbound(" \uff34\uff24 ")  # full-width TD, the Chinese carriers' opt-out
    assert _reply(agent, ticket["id"], "x").status_code == 409


def test_a_provider_outage_is_retried_from_the_database(sms, world, login_as, provider, sweep):
    agent = login_as(world.agent_a)
    ticket = _open_ticket(agent, sms)
    provider.answers.append((503, {"message": "Service Unavailable"}))
    reply = _reply(agent, ticket["id"], "retry me")
    assert reply.status_code == 201
    delivery = _delivery(reply.json["id"])
    assert delivery.status == OutboundStatus.QUEUED and delivery.attempts == 1 and "503" in delivery.last_error
    assert delivery.next_attempt_at > utcnow()
    delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert sweep()["deliveries"] == 1
    delivery = _delivery(reply.json["id"])
    assert delivery.status == OutboundStatus.SENT and delivery.attempts == 2
    assert len(provider.requests) == 2
    assert sweep() == {"records": 0, "deliveries": 0}  # sent: never again


def test_the_provider_saying_unsubscribed_fails_the_reply_and_records_the_opt_out(sms, world, login_as, provider):
    agent = login_as(world.agent_a)
    ticket = _open_ticket(agent, sms)
    provider.answers.append((400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}))
    reply = _reply(agent, ticket["id"], "hello?")
    assert _delivery(reply.json["id"]).status == OutboundStatus.FAILED
    assert _message(agent, ticket["id"], reply.json["id"])["delivery_status"] == "failed"
    assert _reply(agent, ticket["id"], "again").status_code == 409


def test_notes_and_replies_on_tickets_without_a_channel_send_nothing(sms, world, login_as, provider):
    agent = login_as(world.agent_a)
    ticket = _open_ticket(agent, sms)
    assert agent.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"kind": "note", "body_text": "internal"}).status_code == 201
    assert _reply(agent, world.ticket_a.id, "web ticket").status_code == 201
    assert provider.requests == []
