"""Call-backs: a missed call's ticket -> POST /tickets/<id>/calls -> Twilio's Calls.json (a local
recording server) -> status callbacks signed by twilio's RequestValidator -> the call record on the
timeline and the call-back task done."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.customers.models import ContactIdentity
from service_hub.inbound import consent
from service_hub.inbound.call_models import CallRecord, CallStatus
from service_hub.inbound.models import InboundRecord, RecordStatus
from service_hub.tickets.models import Channel, Ticket
from tests.inbound.conftest import SID, TOKEN
from tests.inbound.test_voice_cti import CALLER, T0, pbx  # noqa: F401  (the PBX fixture: a CTI missed call)

HOTLINE = "+14155550100"
AGENT_PHONE = "+8613700137000"
CALL_SID = "CA" + "a" * 32
CUSTOMER_LEG = "CA" + "b" * 32


@pytest.fixture
def twilio_voice(world, login_as, provider):  # type: ignore[no-untyped-def]
    admin = login_as(world.admin)
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "phone.twilio",
            "name": "Hotline (Twilio)",
            "default_department_id": world.dept_a.id,
            "credentials": {"account_sid": SID, "auth_token": TOKEN},
            "settings": {"from_number": HOTLINE, "api_base_url": provider.url, "webhook_base_url": "http://localhost"},
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def _missed_call_ticket(pbx) -> Ticket:  # type: ignore[no-untyped-def]  # noqa: F811
    pbx.event("CA-M", "ringing", 1, T0)
    pbx.event("CA-M", "queued", 2, T0 + timedelta(seconds=5), queue="billing")
    pbx.event("CA-M", "ended", 3, T0 + timedelta(seconds=95), cause="abandoned")
    db.session.expire_all()
    (ticket,) = db.session.scalars(select(Ticket).where(Ticket.channel == Channel.PHONE)).all()
    assert ticket.tags == ["callback"]
    return ticket


def _callback(client, url: str, fields: dict[str, str], *, token: str = TOKEN):  # type: ignore[no-untyped-def]
    """POST a status callback to the StatusCallback URL we gave Twilio, signed as Twilio signs it."""
    signature = RequestValidator(token).compute_signature(url, fields)
    parts = urlsplit(url)
    return client.post(
        f"{parts.path}?{parts.query}",
        data=urlencode(fields),
        headers={"X-Twilio-Signature": signature},
        content_type="application/x-www-form-urlencoded",
    )


def _leg(status: str, at: datetime, seq: int, *, sid: str = CALL_SID, parent: str | None = None, **extra: str) -> dict[str, str]:
    fields = {"CallSid": sid, "AccountSid": SID, "CallStatus": status, "Timestamp": format_datetime(at), "SequenceNumber": str(seq)}
    if parent:
        fields["ParentCallSid"] = parent
    return fields | {"Direction": "outbound-api" if parent is None else "outbound-dial", **extra}


def _inbound_count() -> int:
    return db.session.scalar(select(func.count()).select_from(InboundRecord)) or 0


def _outbound_calls() -> list[CallRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(CallRecord).where(CallRecord.direction == "outbound").order_by(CallRecord.id)))


def test_a_missed_call_is_called_back_and_its_progress_comes_back(app, pbx, twilio_voice, provider, world, login_as):  # noqa: F811
    ticket = _missed_call_ticket(pbx)
    agent = login_as(world.agent_a)
    provider.answers.append((201, {"sid": CALL_SID, "status": "queued"}))

    response = agent.post(f"/api/v1/tickets/{ticket.id}/calls", json={"agent_number": AGENT_PHONE})
    assert response.status_code == 201, response.json
    assert response.json["status"] == "dialing" and response.json["call_id"] == CALL_SID
    assert response.json["direction"] == "outbound" and response.json["to"] == CALLER and response.json["from"] == HOTLINE

    # Twilio's REST API got one Calls.json request: the agent's phone first, then the customer dialled.
    (request,) = provider.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Calls.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    form = request.form
    assert form["To"] == AGENT_PHONE and form["From"] == HOTLINE
    assert form["StatusCallbackEvent"] == "initiated ringing answered completed"
    agent_url = form["StatusCallback"]
    assert agent_url == f"http://localhost/hooks/phone/twilio/{twilio_voice['slug']}/status?leg=agent"
    dial = ET.fromstring(form["Twiml"]).find("Dial")
    assert dial is not None and dial.get("callerId") == HOTLINE
    number = dial.find("Number")
    assert number is not None and number.text == CALLER
    customer_url = number.get("statusCallback")
    assert customer_url == agent_url.replace("leg=agent", "leg=customer")

    client = app.test_client()
    t = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
    steps = [
        (agent_url, _leg("initiated", t, 0)),
        (agent_url, _leg("ringing", t + timedelta(seconds=1), 1)),
        (agent_url, _leg("in-progress", t + timedelta(seconds=6), 2)),  # the agent picked up
        (customer_url, _leg("initiated", t + timedelta(seconds=7), 0, sid=CUSTOMER_LEG, parent=CALL_SID)),
        (customer_url, _leg("ringing", t + timedelta(seconds=8), 1, sid=CUSTOMER_LEG, parent=CALL_SID)),
    ]
    for url, fields in steps:
        assert _callback(client, url, fields).status_code == 204
    (call,) = _outbound_calls()
    assert call.status == CallStatus.RINGING and call.answered_at is None
    answered = _leg("in-progress", t + timedelta(seconds=15), 2, sid=CUSTOMER_LEG, parent=CALL_SID)
    assert _callback(client, customer_url, answered).status_code == 204
    (call,) = _outbound_calls()
    assert call.status == CallStatus.ANSWERED and call.wait_seconds == 14

    # A wrong signature is 403 and stores nothing.
    stored = _inbound_count()
    ended = _leg("completed", t + timedelta(seconds=140), 3, sid=CUSTOMER_LEG, parent=CALL_SID, CallDuration="125")
    assert _callback(client, customer_url, ended, token="not-the-token").status_code == 403
    assert _inbound_count() == stored
    assert _callback(client, customer_url, ended).status_code == 204
    assert _callback(client, customer_url, ended).status_code == 204  # redelivered: acknowledged, nothing new
    assert _inbound_count() == stored + 1
    assert _callback(client, agent_url, _leg("completed", t + timedelta(seconds=141), 3, CallDuration="135")).status_code == 204

    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(InboundRecord))} == {RecordStatus.PROCESSED}
    (call,) = _outbound_calls()
    assert call.status == CallStatus.COMPLETED and call.talk_seconds == 125 and call.end_cause == "normal"
    assert call.agent_id == world.agent_a.id and call.ticket_id == ticket.id

    # Through the API: the call on the timeline, the call-back task done.
    items = agent.get(f"/api/v1/tickets/{ticket.id}/timeline").json["items"]
    (item,) = [i for i in items if i["kind"] == "call" and i["direction"] == "outbound"]
    assert item["status"] == "completed" and item["talk_seconds"] == 125 and item["call_id"] == CALL_SID and item["to"] == CALLER
    assert item["answered_at"].startswith("2026-11-24T10:00:15") and item["ended_at"].startswith("2026-11-24T10:02:20")
    detail = agent.get(f"/api/v1/tickets/{ticket.id}").json
    assert "callback" not in detail["tags"] and "callback-done" in detail["tags"]
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "call.updated").order_by(OutboxEvent.id)).all()
    assert events and all(e.rooms == [f"ticket:{ticket.id}"] for e in events)
    assert events[0].payload["status"] == "dialing" and events[-1].payload["status"] == "completed"


def test_a_provider_refusal_fails_the_call_with_its_message(pbx, twilio_voice, provider, world, login_as):  # noqa: F811
    ticket = _missed_call_ticket(pbx)
    provider.answers.append((400, {"code": 21217, "message": "Phone number does not appear to be valid", "status": 400}))
    response = login_as(world.agent_a).post(f"/api/v1/tickets/{ticket.id}/calls", json={"agent_number": AGENT_PHONE})
    assert response.status_code == 201, response.json
    assert response.json["status"] == "failed" and response.json["call_id"] is None
    assert "21217" in response.json["error"] and "does not appear to be valid" in response.json["error"]
    (call,) = _outbound_calls()
    assert call.status == CallStatus.FAILED and "21217" in (call.error or "")
    db.session.expire_all()
    assert "callback" in db.session.get(Ticket, ticket.id).tags
    # A failed call is not "under way": the agent can try again at once.
    again = login_as(world.agent_a).post(f"/api/v1/tickets/{ticket.id}/calls", json={"agent_number": AGENT_PHONE})
    assert again.status_code == 201 and again.json["status"] == "dialing"


@pytest.mark.parametrize("outcome", ["busy", "no-answer"])
def test_a_busy_or_unanswered_customer_leaves_the_call_back_open(app, pbx, twilio_voice, provider, world, login_as, outcome):  # noqa: F811
    ticket = _missed_call_ticket(pbx)
    agent = login_as(world.agent_a)
    provider.answers.append((201, {"sid": CALL_SID, "status": "queued"}))
    assert agent.post(f"/api/v1/tickets/{ticket.id}/calls", json={"agent_number": AGENT_PHONE}).status_code == 201
    form = provider.requests[0].form
    agent_url = form["StatusCallback"]
    customer_url = ET.fromstring(form["Twiml"]).find("Dial/Number").get("statusCallback")  # type: ignore[union-attr]
    client = app.test_client()
    t = datetime(2026, 11, 24, 11, 0, 0, tzinfo=UTC)
    # Out of order: the agent's leg reports its end before the customer's leg does.
    assert _callback(client, agent_url, _leg("ringing", t, 1)).status_code == 204
    assert _callback(client, agent_url, _leg("in-progress", t + timedelta(seconds=4), 2)).status_code == 204
    assert _callback(client, agent_url, _leg("completed", t + timedelta(seconds=40), 4, CallDuration="36")).status_code == 204
    customer_end = _leg(outcome, t + timedelta(seconds=39), 3, sid=CUSTOMER_LEG, parent=CALL_SID, CallDuration="0")
    assert _callback(client, customer_url, customer_end).status_code == 204
    (call,) = _outbound_calls()
    assert call.status == CallStatus.MISSED and call.end_cause == outcome and call.talk_seconds is None and call.answered_at is None
    item = next(
        i for i in agent.get(f"/api/v1/tickets/{ticket.id}/timeline").json["items"] if i["kind"] == "call" and i["direction"] == "outbound"
    )
    assert item["status"] == "missed" and item["end_cause"] == outcome
    assert "callback" in agent.get(f"/api/v1/tickets/{ticket.id}").json["tags"]


def test_an_agent_who_does_not_pick_up_misses_the_call(app, pbx, twilio_voice, provider, world, login_as):  # noqa: F811
    ticket = _missed_call_ticket(pbx)
    provider.answers.append((201, {"sid": CALL_SID, "status": "queued"}))
    login_as(world.agent_a).post(f"/api/v1/tickets/{ticket.id}/calls", json={"agent_number": "client:agent-7"})
    form = provider.requests[0].form
    assert form["To"] == "client:agent-7"
    t = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
    assert _callback(app.test_client(), form["StatusCallback"], _leg("no-answer", t, 2)).status_code == 204
    (call,) = _outbound_calls()
    assert call.status == CallStatus.MISSED and call.end_cause == "agent-no-answer"


def test_a_callback_before_the_call_sid_is_known_is_kept_and_retried(app, twilio_voice):
    url = f"http://localhost/hooks/phone/twilio/{twilio_voice['slug']}/status?leg=agent"
    assert _callback(app.test_client(), url, _leg("ringing", datetime(2026, 11, 24, tzinfo=UTC), 1, sid="CA" + "9" * 32)).status_code == 204
    db.session.expire_all()
    (record,) = db.session.scalars(select(InboundRecord)).all()
    assert record.status == RecordStatus.FAILED and "No call-back has CallSid" in (record.last_error or "")


def test_refusals(pbx, twilio_voice, provider, world, login_as):  # noqa: F811
    ticket = _missed_call_ticket(pbx)
    agent = login_as(world.agent_a)
    path = f"/api/v1/tickets/{ticket.id}/calls"
    # Not E.164, and an agent of another department does not see the ticket.
    response = agent.post(path, json={"agent_number": "13700137000"})
    assert response.status_code == 422 and "agent_number" in response.json["errors"]
    assert login_as(world.agent_b).post(path, json={"agent_number": AGENT_PHONE}).status_code == 404
    # The customer opted out of calls.
    identity = db.session.scalars(select(ContactIdentity).where(ContactIdentity.value == CALLER)).one()
    consent.opt_out(identity, "phone", "STOP")
    db.session.commit()
    response = agent.post(path, json={"agent_number": AGENT_PHONE})
    assert response.status_code == 409 and response.json["type"].endswith("recipient-opted-out")
    consent.opt_in(identity, "phone")
    db.session.commit()
    # The hotline account is deactivated.
    admin = login_as(world.admin)
    assert admin.patch(f"/api/v1/channel-accounts/{twilio_voice['id']}", json={"is_active": False}).status_code == 200
    response = agent.post(path, json={"agent_number": AGENT_PHONE, "account_id": twilio_voice["id"]})
    assert response.status_code == 409 and response.json["type"].endswith("channel-inactive")
    assert admin.patch(f"/api/v1/channel-accounts/{twilio_voice['id']}", json={"is_active": True}).status_code == 200
    # One call-back at a time.
    provider.answers.append((201, {"sid": CALL_SID, "status": "queued"}))
    assert agent.post(path, json={"agent_number": AGENT_PHONE}).status_code == 201
    response = agent.post(path, json={"agent_number": AGENT_PHONE})
    assert response.status_code == 409 and response.json["type"].endswith("call-in-progress")
    assert len(provider.requests) == 1 and len(_outbound_calls()) == 1


def test_a_ticket_without_a_phone_number_cannot_be_called_back(twilio_voice, world, login_as):
    response = login_as(world.agent_a).post(f"/api/v1/tickets/{world.ticket_a.id}/calls", json={"agent_number": AGENT_PHONE})
    assert response.status_code == 409 and response.json["type"].endswith("no-phone-number")
