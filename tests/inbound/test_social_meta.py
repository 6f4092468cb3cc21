"""WhatsApp Cloud API and Messenger end to end: hub.challenge, X-Hub-Signature-256 computed with hmac as Meta
documents, Meta's payload shapes, replies in the Graph API shape, status webhooks, the 24-hour window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound.models import InboundRecord, OutboundDelivery
from service_hub.tickets.models import Message
from tests.channels.social import provider_api
from tests.channels.social.payloads import (
    META_SECRET,
    META_TOKEN,
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID,
    VERIFY_TOKEN,
    WA_ID,
    messenger_delivery,
    messenger_text,
    meta_signature,
    whatsapp_status,
    whatsapp_text,
)


def _account(admin, world, kind: str, settings: dict[str, str]):  # type: ignore[no-untyped-def]
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": kind,
            "name": kind,
            "default_department_id": world.dept_a.id,
            "credentials": {"app_secret": META_SECRET, "access_token": META_TOKEN, "verify_token": VERIFY_TOKEN},
            "settings": settings | {"graph_version": "v21.0", "webhook_base_url": "http://localhost"},
        },
    )
    assert response.status_code == 201, response.json
    return response.json["webhook_urls"]["message"]


@pytest.fixture
def social_api():  # type: ignore[no-untyped-def]
    """A local recording server standing in for WeChat's and the Graph API."""
    state, server = provider_api.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def whatsapp(app, world, login_as, social_api):  # type: ignore[no-untyped-def]
    return app.test_client(), _account(
        login_as(world.admin), world, "social.whatsapp", {"phone_number_id": PHONE_NUMBER_ID, "api_base_url": social_api.url}
    )


@pytest.fixture
def messenger(app, world, login_as, social_api):  # type: ignore[no-untyped-def]
    return app.test_client(), _account(
        login_as(world.admin), world, "social.messenger", {"page_id": PAGE_ID, "api_base_url": social_api.url}
    )


def _post(hook, body: bytes, signature: str | None = None):  # type: ignore[no-untyped-def]
    client, path = hook
    headers = {"X-Hub-Signature-256": meta_signature(body) if signature is None else signature}
    return client.post(path, data=body, headers=headers, content_type="application/json")


def _ticket(api, channel: str) -> dict:  # type: ignore[no-untyped-def]
    (ticket,) = api.get(f"/api/v1/tickets?channel={channel}").json["items"]
    return ticket  # type: ignore[no-any-return]


def _message(api, ticket_id: int, message_id: int) -> dict:  # type: ignore[no-untyped-def]
    return next(m for m in api.get(f"/api/v1/tickets/{ticket_id}/messages").json["items"] if m["id"] == message_id)


def test_hub_challenge(whatsapp):
    client, path = whatsapp
    ok = client.get(path, query_string={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.data == b"1158201444"
    wrong = client.get(path, query_string={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403


def test_whatsapp_text_ticket_reply_and_statuses(whatsapp, world, login_as, social_api):
    assert _post(whatsapp, whatsapp_text("My router is dead <script>alert(1)</script>")).status_code == 200
    agent = login_as(world.agent_a)
    ticket = _ticket(agent, "whatsapp")
    (inbound,) = agent.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"]
    assert inbound["body_text"] == "My router is dead <script>alert(1)</script>" and not inbound.get("body_html")

    reply = agent.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"kind": "reply", "body_text": "A technician comes tomorrow"})
    assert reply.status_code == 201, reply.json
    (sent,) = social_api.requests
    assert sent.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert sent.headers["Authorization"] == f"Bearer {META_TOKEN}"
    assert social_api.json(0) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"preview_url": False, "body": "A technician comes tomorrow"},
    }
    assert _message(agent, ticket["id"], reply.json["id"])["delivery_status"] == "sent"
    wamid = db.session.scalars(select(OutboundDelivery.provider_message_id)).one()
    for status in ("delivered", "read"):
        assert _post(whatsapp, whatsapp_status(wamid, status)).status_code == 200
        assert _message(agent, ticket["id"], reply.json["id"])["delivery_status"] == status
    assert _post(whatsapp, whatsapp_status(wamid, "delivered")).status_code == 200  # late: changes nothing
    assert _message(agent, ticket["id"], reply.json["id"])["delivery_status"] == "read"


def test_a_failed_status_carries_metas_error(whatsapp, world, login_as):
    _post(whatsapp, whatsapp_text("hi"))
    agent = login_as(world.agent_a)
    ticket = _ticket(agent, "whatsapp")
    reply = agent.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"kind": "reply", "body_text": "hello"})
    wamid = db.session.scalars(select(OutboundDelivery.provider_message_id)).one()
    errors = [{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "Receiver is incapable"}}]
    _post(whatsapp, whatsapp_status(wamid, "failed", errors=errors))
    message = _message(agent, ticket["id"], reply.json["id"])
    assert message["delivery_status"] == "failed" and message["delivery_error"].startswith("131026: Receiver is incapable")


def test_signatures_replays_and_malformed_payloads(whatsapp, world, login_as):
    body = whatsapp_text("hello")
    assert _post(whatsapp, body, signature="").status_code == 403
    assert _post(whatsapp, body, signature=meta_signature(body, "another-secret")).status_code == 403
    reserialised = body.replace(b'": ', b'":')  # the same JSON, other bytes: the signature is over the raw body
    assert _post(whatsapp, reserialised, signature=meta_signature(body)).status_code == 403
    assert _post(whatsapp, b"{not json").status_code == 400
    assert _post(whatsapp, body).status_code == 200
    assert _post(whatsapp, body).status_code == 200  # Meta redelivers: acknowledged, nothing new
    assert db.session.scalar(select(db.func.count()).select_from(InboundRecord)) == 1
    assert len(login_as(world.agent_a).get("/api/v1/tickets?channel=whatsapp").json["items"]) == 1


def test_a_reply_after_24_hours_is_refused_with_the_template_advice(whatsapp, world, login_as, social_api):
    _post(whatsapp, whatsapp_text("anyone?"))
    agent = login_as(world.agent_a)
    ticket = _ticket(agent, "whatsapp")
    db.session.execute(update(Message).where(Message.ticket_id == ticket["id"]).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    refused = agent.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"kind": "reply", "body_text": "sorry"})
    assert refused.status_code == 409, refused.json
    assert "outside WhatsApp's 24-hour customer-service window; send an approved template instead" in refused.json["detail"]
    assert social_api.requests == [] and db.session.scalar(select(db.func.count()).select_from(OutboundDelivery)) == 0


def test_messenger_message_reply_and_delivery(messenger, world, login_as, social_api):
    assert _post(messenger, messenger_text("Hello from Messenger")).status_code == 200
    agent = login_as(world.agent_a)
    ticket = _ticket(agent, "messenger")
    reply = agent.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"kind": "reply", "body_text": "Hi, how can we help?"})
    assert reply.status_code == 201, reply.json
    (sent,) = social_api.requests
    assert sent.path == "/v21.0/me/messages"
    assert social_api.json(0) == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Hi, how can we help?"}}
    mid = db.session.scalars(select(OutboundDelivery.provider_message_id)).one()
    assert _post(messenger, messenger_delivery(mid)).status_code == 200
    assert _message(agent, ticket["id"], reply.json["id"])["delivery_status"] == "delivered"
