"""Twilio Voice call-backs on their own: Calls.json against a local recording server, status callbacks parsed."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from channels.base import PayloadError, SendError
from channels.http_transport import RequestsTransport
from channels.voice.twilio_voice import TwilioVoice, is_dialable, parse_call_status, place_call
from tests.channels import recording_server

SID = "AC" + "2" * 32
TOKEN = "token-0123456789"
CREDENTIALS = {"account_sid": SID, "auth_token": TOKEN}
CUSTOMER, HOTLINE, AGENT = "+8613800138000", "+14155550100", "+8613700137000"
CALLBACK = "https://desk.example.com/hooks/phone/twilio/hotline/status"


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    state, server = recording_server.start()
    yield state
    server.shutdown()
    server.server_close()


def test_place_call_rings_the_agent_then_dials_the_customer(api):  # type: ignore[no-untyped-def]
    api.answers.append((201, {"sid": "CA" + "1" * 32, "status": "queued"}))
    placed = TwilioVoice().place_call(CUSTOMER, HOTLINE, AGENT, CALLBACK, CREDENTIALS, {"api_base_url": api.url}, RequestsTransport())
    assert placed.call_sid == "CA" + "1" * 32 and placed.status == "queued"
    (request,) = api.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Calls.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = request.form
    assert (form["To"], form["From"]) == (AGENT, HOTLINE)
    assert form["StatusCallback"] == CALLBACK + "?leg=agent" and form["StatusCallbackMethod"] == "POST"
    assert form["StatusCallbackEvent"] == "initiated ringing answered completed"
    dial = ET.fromstring(form["Twiml"]).find("Dial")
    assert dial is not None and dial.get("callerId") == HOTLINE
    number = dial.find("Number")
    assert number is not None and number.text == CUSTOMER and number.get("statusCallback") == CALLBACK + "?leg=customer"
    assert number.get("statusCallbackEvent") == "initiated ringing answered completed"


def test_without_a_public_url_no_callbacks_are_asked_for(api):  # type: ignore[no-untyped-def]
    place_call(CUSTOMER, HOTLINE, "client:alice", None, CREDENTIALS, {"api_base_url": api.url}, RequestsTransport())
    form = api.requests[0].form
    assert form["To"] == "client:alice" and "StatusCallback" not in form
    number = ET.fromstring(form["Twiml"]).find("Dial/Number")
    assert number is not None and number.get("statusCallback") is None


def test_refusals_are_permanent_and_outages_transient(api):  # type: ignore[no-untyped-def]
    api.answers.append((400, {"code": 21217, "message": "Phone number does not appear to be valid", "status": 400}))
    with pytest.raises(SendError) as refused:
        place_call(CUSTOMER, HOTLINE, AGENT, CALLBACK, CREDENTIALS, {"api_base_url": api.url}, RequestsTransport())
    assert refused.value.permanent and refused.value.code == "21217" and "does not appear to be valid" in str(refused.value)
    api.answers.append((503, {"message": "Service Unavailable"}))
    with pytest.raises(SendError) as outage:
        place_call(CUSTOMER, HOTLINE, AGENT, CALLBACK, CREDENTIALS, {"api_base_url": api.url}, RequestsTransport())
    assert not outage.value.permanent and "Service Unavailable" in str(outage.value)
    with pytest.raises(SendError) as unreachable:
        place_call(CUSTOMER, HOTLINE, AGENT, CALLBACK, CREDENTIALS, {"api_base_url": "http://127.0.0.1:9"}, RequestsTransport())
    assert not unreachable.value.permanent
    for to, from_, agent in ((CUSTOMER, "95511", AGENT), ("13800138000", HOTLINE, AGENT), (CUSTOMER, HOTLINE, "client:<x>")):
        with pytest.raises(SendError) as invalid:
            place_call(to, from_, agent, CALLBACK, CREDENTIALS, {"api_base_url": api.url}, RequestsTransport())
        assert invalid.value.permanent
    assert len(api.requests) == 2  # the invalid ones never reached the API


def test_status_callbacks_of_both_legs_are_parsed():
    agent_leg = parse_call_status({"CallSid": "CA1", "CallStatus": "in-progress", "Timestamp": "Tue, 24 Nov 2026 10:00:06 +0000"})
    assert agent_leg.call_back_sid == "CA1" and not agent_leg.customer_leg and not agent_leg.ended
    assert agent_leg.occurred_at == datetime(2026, 11, 24, 10, 0, 6, tzinfo=UTC)
    customer_leg = parse_call_status({"CallSid": "CA2", "ParentCallSid": "CA1", "CallStatus": "completed", "CallDuration": "125"})
    assert customer_leg.call_back_sid == "CA1" and customer_leg.customer_leg and customer_leg.ended and customer_leg.duration == 125
    assert parse_call_status({"CallSid": "CA1", "CallStatus": "BUSY", "Timestamp": "garbage"}).occurred_at is None
    for broken in ({"CallStatus": "completed"}, {"CallSid": "CA1", "CallStatus": "exploded"}, {"CallSid": "CA1"}):
        with pytest.raises(PayloadError):
            parse_call_status(broken)


def test_dialable_numbers():
    assert is_dialable("+8613800138000") and is_dialable("client:agent-7")
    assert not is_dialable("13800138000") and not is_dialable("+0123") and not is_dialable("client:") and not is_dialable("sip:x@y")
