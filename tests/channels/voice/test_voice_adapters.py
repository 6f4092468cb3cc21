"""The hotline adapters on their own: CTI HMAC and replay window, event parsing, Twilio IVR TwiML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from twilio.request_validator import RequestValidator

from channels import registry
from channels.base import HookKind, PayloadError, ReplayError, SignatureError, WebhookRequest
from channels.voice.cti import CtiVoice, sign
from channels.voice.events import CallEventType, VoiceAdapter
from channels.voice.twilio_voice import TwilioVoice, answer, queue_priority

SECRET = "s3cret"
NOW = 1_800_000_000


def cti_request(event: dict[str, object], ts: int = NOW, secret: str = SECRET) -> WebhookRequest:
    body = json.dumps(event).encode()
    headers = {"X-CTI-Timestamp": str(ts), "X-CTI-Signature": sign(secret, str(ts), body)}
    return WebhookRequest(url="https://desk.example.com/hooks/phone/cti/x", method="POST", headers=headers, body=body)


EVENT = {
    "call_id": "CA1",
    "type": "answered",
    "sequence": 3,
    "occurred_at": "2026-11-24T09:00:05+08:00",
    "from": "+8613800138000",
    "agent_id": "7",
}


def test_both_are_registered_voice_adapters():
    for kind in ("phone.cti", "phone.twilio"):
        assert isinstance(registry.adapter_for(kind), VoiceAdapter)


def test_cti_signature_window_and_event_id():
    adapter = CtiVoice(clock=lambda: NOW + 299)
    request = cti_request(EVENT)
    adapter.verify(request, {"signing_secret": SECRET}, {})
    assert adapter.provider_event_id(HookKind.MESSAGE, request) == "CA1:answered:3"
    with pytest.raises(SignatureError):
        adapter.verify(cti_request(EVENT, secret="other"), {"signing_secret": SECRET}, {})
    with pytest.raises(ReplayError):
        CtiVoice(clock=lambda: NOW + 301).verify(request, {"signing_secret": SECRET}, {})
    with pytest.raises(ReplayError):
        CtiVoice(clock=lambda: NOW + 31).verify(request, {"signing_secret": SECRET}, {"replay_window_seconds": "30"})


def test_cti_events_are_normalised_and_malformed_ones_refused():
    (event,) = CtiVoice().parse_call_events(HookKind.MESSAGE, json.dumps(EVENT).encode())
    assert event.type == CallEventType.ANSWERED and event.agent_id == 7 and event.sequence == 3
    assert event.occurred_at == datetime(2026, 11, 24, 1, 0, 5, tzinfo=UTC)
    for broken in (
        b"[]",
        b"nope",
        json.dumps(EVENT | {"type": "boom"}).encode(),
        json.dumps(EVENT | {"recording_url": "file:///etc/passwd"}).encode(),
    ):
        with pytest.raises(PayloadError):
            CtiVoice().parse_call_events(HookKind.MESSAGE, broken)


def test_twilio_voice_signature_is_twilios():
    url = "https://desk.example.com/hooks/phone/twilio/x/voice"
    fields = {"CallSid": "CA1", "From": "+8613800138000"}
    signature = RequestValidator("tok").compute_signature(url, fields)
    request = WebhookRequest(url=url, method="POST", headers={"X-Twilio-Signature": signature}, body=b"CallSid=CA1&From=%2B8613800138000")
    TwilioVoice().verify(request, {"auth_token": "tok"}, {})
    with pytest.raises(SignatureError):
        TwilioVoice().verify(request, {"auth_token": "other"}, {})


def test_the_ivr_is_a_pure_function_of_the_request():
    path = "/hooks/phone/twilio/x/voice"
    menu = ET.fromstring(answer(path, "http://h" + path, {}, {}, None))
    assert menu.find("Gather").get("action") == path + "?step=language"
    english = ET.fromstring(answer(path, f"http://h{path}?step=language", {"Digits": "2"}, {}, None))
    assert [s.text for s in english.find("Gather").findall("Say")] == ["For billing, press 1.", "For technical support, press 2."]
    wrong = ET.fromstring(answer(path, f"http://h{path}?step=language", {"Digits": "9"}, {}, None))
    assert wrong.find("Gather").get("action").endswith("step=language")
    settings = {"workflow_sid": "WW1", "ivr_departments": json.dumps([{"digit": "3", "queue": "roaming", "zh": "漫游", "en": "roaming"}])}
    queued = ET.fromstring(answer(path, f"http://h{path}?step=department&lang=en", {"Digits": "3"}, settings, "gold"))
    task = queued.find("Enqueue/Task")
    assert json.loads(task.text) == {"language": "en", "department": "roaming", "tier": "gold"}
    assert int(task.get("priority")) == queue_priority("gold") > queue_priority("normal") and queue_priority("diamond") > queue_priority(
        "gold"
    )
