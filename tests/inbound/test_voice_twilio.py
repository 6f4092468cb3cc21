"""Twilio Voice: webhooks signed by twilio's RequestValidator, answered with IVR TwiML; status callbacks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from service_hub.core.extensions import db
from service_hub.customers.models import IdentityKind, Tier
from service_hub.inbound.call_models import CallRecord, CallStatus
from service_hub.inbound.models import InboundRecord
from service_hub.tickets.models import Channel, Ticket
from tests.factories import CustomerFactory, IdentityFactory
from tests.inbound.conftest import SID, TOKEN

DIAMOND = "+8613911112222"
NORMAL = "+8613933334444"


@pytest.fixture
def voice(app, world, login_as):  # type: ignore[no-untyped-def]
    admin = login_as(world.admin)
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "phone.twilio",
            "name": "Hotline (Twilio)",
            "default_department_id": world.dept_a.id,
            "credentials": {"account_sid": SID, "auth_token": TOKEN},
            "settings": {"workflow_sid": "WW" + "0" * 32, "webhook_base_url": "http://localhost"},
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def _post(client, path: str, fields: dict[str, str], *, token: str = TOKEN):  # type: ignore[no-untyped-def]
    signature = RequestValidator(token).compute_signature("http://localhost" + path, fields)
    return client.post(
        path, data=urlencode(fields), headers={"X-Twilio-Signature": signature}, content_type="application/x-www-form-urlencoded"
    )


def _call(client, slug: str, call_sid: str, caller: str) -> ET.Element:  # type: ignore[no-untyped-def]
    """Walk the IVR like Twilio: the incoming call, 1 for 中文, 2 for the second department."""
    path = f"/hooks/phone/twilio/{slug}/voice"
    base = {"CallSid": call_sid, "AccountSid": SID, "From": caller, "To": "+14155550100", "CallStatus": "ringing"}
    first = _post(client, path, base)
    assert first.status_code == 200 and first.content_type.startswith("text/xml")
    gather = ET.fromstring(first.data).find("Gather")
    assert gather is not None and [s.text for s in gather.findall("Say")] == ["普通话服务请按1。", "For English, press 2."]
    second = _post(client, gather.get("action"), base | {"Digits": "1", "CallStatus": "in-progress"})
    gather = ET.fromstring(second.data).find("Gather")
    assert gather is not None and "请按2" in gather.findall("Say")[1].text and gather.findall("Say")[1].get("language") == "zh-CN"
    third = _post(client, gather.get("action"), base | {"Digits": "2", "CallStatus": "in-progress"})
    enqueue = ET.fromstring(third.data).find("Enqueue")
    assert enqueue is not None and enqueue.get("workflowSid", "").startswith("WW")
    return enqueue


def test_the_ivr_menus_then_enqueue_with_a_higher_priority_for_a_diamond_customer(app, voice, world):
    IdentityFactory(kind=IdentityKind.PHONE, value=DIAMOND, customer=CustomerFactory(tier=Tier.DIAMOND))
    db.session.commit()
    client = app.test_client()
    diamond = _call(client, voice["slug"], "CA" + "d" * 32, DIAMOND).find("Task")
    normal = _call(client, voice["slug"], "CA" + "e" * 32, NORMAL).find("Task")
    assert diamond is not None and normal is not None
    assert int(diamond.get("priority")) > int(normal.get("priority"))
    assert '"department": "technical"' in diamond.text and '"tier": "diamond"' in diamond.text
    # Each step was stored raw and processed: the call record has the IVR path and the queue.
    db.session.expire_all()
    call = db.session.scalars(select(CallRecord).where(CallRecord.provider_call_id == "CA" + "d" * 32)).one()
    assert call.ivr_path == ["language:zh", "department:technical"] and call.status == CallStatus.QUEUED
    assert db.session.scalar(select(db.func.count()).select_from(InboundRecord)) == 6


def test_a_wrong_signature_is_refused_and_nothing_is_stored(app, voice):
    path = f"/hooks/phone/twilio/{voice['slug']}/voice"
    response = _post(app.test_client(), path, {"CallSid": "CA1", "From": NORMAL}, token="wrong-token")
    assert response.status_code == 403
    assert db.session.scalars(select(InboundRecord)).all() == []


def test_status_callbacks_end_the_call_and_a_missed_one_asks_for_a_call_back(app, voice):
    client = app.test_client()
    sid = "CA" + "f" * 32
    _post(
        client, f"/hooks/phone/twilio/{voice['slug']}/voice", {"CallSid": sid, "AccountSid": SID, "From": NORMAL, "CallStatus": "ringing"}
    )
    status_path = voice["webhook_urls"]["status"]
    fields = {"CallSid": sid, "AccountSid": SID, "From": NORMAL, "CallStatus": "no-answer", "SequenceNumber": "1"}
    assert _post(client, status_path, fields).status_code == 204
    assert _post(client, status_path, fields).status_code == 204  # redelivered
    db.session.expire_all()
    call = db.session.scalars(select(CallRecord)).one()
    assert call.status == CallStatus.MISSED and call.end_cause == "no-answer"
    (ticket,) = db.session.scalars(select(Ticket).where(Ticket.channel == Channel.PHONE)).all()
    assert ticket.tags == ["callback"] and call.ticket_id == ticket.id
