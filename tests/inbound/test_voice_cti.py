"""The hotline through a PBX's CTI link: HMAC-signed JSON events into call records, tickets and call-backs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from channels.voice.cti import sign
from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.inbound.call_models import CallRecord, CallStatus
from service_hub.inbound.models import InboundRecord, RecordStatus
from service_hub.tickets.models import Channel, Message, Ticket

SECRET = "cti-signing-secret-0123456789"
CALLER = "+8613900139000"
T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)


@dataclass
class Pbx:
    client: Any
    admin: Any
    account: dict[str, Any]

    @property
    def path(self) -> str:
        return self.account["webhook_urls"]["message"]

    def post(self, event: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None, signature: str | None = None):  # type: ignore[no-untyped-def]
        body = json.dumps(event).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {"X-CTI-Timestamp": ts, "X-CTI-Signature": sign(secret, ts, body) if signature is None else signature}
        return self.client.post(self.path, data=body, headers=headers, content_type="application/json")

    def event(self, call_id: str, kind: str, seq: int, at: datetime, **fields: Any):  # type: ignore[no-untyped-def]
        return self.post({"call_id": call_id, "type": kind, "sequence": seq, "occurred_at": at.isoformat(), "from": CALLER, **fields})


@pytest.fixture
def pbx(app, world, login_as) -> Pbx:  # type: ignore[no-untyped-def]
    admin = login_as(world.admin)
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "phone.cti",
            "name": "Hotline PBX",
            "default_department_id": world.dept_a.id,
            "credentials": {"signing_secret": SECRET},
            "settings": {"replay_window_seconds": "300", "webhook_base_url": "http://localhost"},
        },
    )
    assert response.status_code == 201, response.json
    return Pbx(app.test_client(), admin, response.json)


def _records() -> list[InboundRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(InboundRecord).order_by(InboundRecord.id)))


def _calls() -> list[CallRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(CallRecord).order_by(CallRecord.id)))


def _phone_tickets() -> list[Ticket]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket).where(Ticket.channel == Channel.PHONE).order_by(Ticket.id)))


def test_a_signed_call_sequence_makes_one_ticket_with_its_call_record(pbx, world):
    agent = world.agent_a
    steps = [
        ("ringing", 0, {}),
        ("ivr", 4, {"ivr": "language:zh"}),
        ("ivr", 9, {"ivr": "department:billing"}),
        ("queued", 10, {"queue": "billing"}),
        ("ringing", 40, {"agent_id": agent.id}),
        ("answered", 45, {"agent_id": agent.id}),
        ("ended", 230, {"cause": "normal"}),
        ("recording", 240, {"recording_url": "https://pbx.example.com/rec/CA1.wav"}),
    ]
    for seq, (kind, offset, extra) in enumerate(steps, start=1):
        response = pbx.event("CA-1", kind, seq, T0 + timedelta(seconds=offset), **extra)
        assert response.status_code == 200, response.json
    assert [r.status for r in _records()] == [RecordStatus.PROCESSED] * len(steps)
    (call,) = _calls()
    assert call.status == CallStatus.COMPLETED and call.agent_id == agent.id
    assert call.ivr_path == ["language:zh", "department:billing"] and call.queue == "billing"
    assert call.wait_seconds == 35 and call.talk_seconds == 185
    assert call.recording_url == "https://pbx.example.com/rec/CA1.wav"
    (ticket,) = _phone_tickets()
    assert call.ticket_id == ticket.id and ticket.department_id == world.dept_a.id and "callback" not in ticket.tags
    # Through the API: the ticket, its summary message and the call record on the timeline.
    api = pbx.admin
    assert api.get(f"/api/v1/tickets/{ticket.id}").status_code == 200
    items = api.get(f"/api/v1/tickets/{ticket.id}/timeline").json["items"]
    (call_item,) = [i for i in items if i["kind"] == "call"]
    assert call_item["wait_seconds"] == 35 and call_item["talk_seconds"] == 185 and call_item["agent_id"] == agent.id
    assert call_item["recording_url"].endswith("CA1.wav")
    (message,) = [i for i in items if i["kind"] == "message"]
    assert "IVR: language:zh > department:billing" in message["body_text"] and "talked 3m05s" in message["body_text"]
    # The screen-pop went to the agent's room only.
    (pop,) = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "call.ringing")).all()
    assert pop.rooms == [f"agent:{agent.id}"] and pop.payload["customer"]["identities"][0]["value"] == CALLER


def test_a_second_call_of_the_customer_joins_the_open_ticket(pbx):
    for call_id in ("CA-A", "CA-B"):
        pbx.event(call_id, "ringing", 1, T0)
        pbx.event(call_id, "answered", 2, T0 + timedelta(seconds=5))
        pbx.event(call_id, "ended", 3, T0 + timedelta(seconds=65))
    (ticket,) = _phone_tickets()
    assert {c.ticket_id for c in _calls()} == {ticket.id}
    assert len(db.session.scalars(select(Message).where(Message.ticket_id == ticket.id)).all()) == 2


def test_bad_missing_or_tampered_signatures_are_refused_and_nothing_is_stored(pbx):
    event = {"call_id": "CA-X", "type": "ringing", "sequence": 1, "occurred_at": T0.isoformat(), "from": CALLER}
    assert pbx.post(event, secret="not-the-secret").status_code == 403
    assert pbx.post(event, signature="").status_code == 403
    ts = str(int(time.time()))
    forged = sign(SECRET, ts, b'{"call_id": "other"}')
    response = pbx.post(event, timestamp=int(ts), signature=forged)
    assert response.status_code == 403 and response.json["type"].endswith("signature-invalid")
    assert _records() == [] and _calls() == []


def test_a_stale_or_future_timestamp_is_refused_even_when_signed(pbx):
    event = {"call_id": "CA-S", "type": "ringing", "sequence": 1, "occurred_at": T0.isoformat(), "from": CALLER}
    assert pbx.post(event, timestamp=int(time.time()) - 301).status_code == 403
    assert pbx.post(event, timestamp=int(time.time()) + 600).status_code == 403
    assert _records() == []
    assert pbx.post(event).status_code == 200 and len(_records()) == 1


def test_a_replayed_event_is_acknowledged_and_has_no_second_effect(pbx):
    pbx.event("CA-D", "ringing", 1, T0)
    pbx.event("CA-D", "ivr", 2, T0, ivr="language:en")
    again = pbx.event("CA-D", "ivr", 2, T0, ivr="language:en")
    assert again.status_code == 200 and again.json == {"ok": True}
    assert len(_records()) == 2
    (call,) = _calls()
    assert call.ivr_path == ["language:en"]


def test_a_missed_call_opens_one_call_back_ticket(pbx, world):
    pbx.event("CA-M", "ringing", 1, T0)
    pbx.event("CA-M", "queued", 2, T0 + timedelta(seconds=5), queue="billing")
    pbx.event("CA-M", "ended", 3, T0 + timedelta(seconds=95), cause="abandoned")
    pbx.event("CA-M", "ended", 3, T0 + timedelta(seconds=95), cause="abandoned")  # redelivered
    (call,) = _calls()
    assert call.status == CallStatus.MISSED and call.talk_seconds is None and call.wait_seconds is None
    (ticket,) = _phone_tickets()
    assert ticket.tags == ["callback"] and ticket.department_id == world.dept_a.id and ticket.subject.startswith("Call-back")
    assert call.ticket_id == ticket.id


def test_a_voicemail_with_its_transcript_asks_for_a_call_back(pbx):
    pbx.event("CA-V", "ringing", 1, T0)
    pbx.event("CA-V", "voicemail", 2, T0 + timedelta(seconds=30), voicemail_url="https://pbx.example.com/vm/CA-V.wav")
    pbx.event("CA-V", "ended", 3, T0 + timedelta(seconds=60))
    pbx.event("CA-V", "transcript", 4, T0 + timedelta(seconds=90), transcript="您好\uff0c我的宽带断了\uff0c请回电。")
    (call,) = _calls()
    assert call.status == CallStatus.VOICEMAIL and call.voicemail_url.endswith("CA-V.wav")
    assert call.transcript == "您好\uff0c我的宽带断了\uff0c请回电。"
    (ticket,) = _phone_tickets()
    assert "callback" in ticket.tags
    bodies = [m.body_text for m in db.session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id))]
    assert "Voicemail: https://pbx.example.com/vm/CA-V.wav" in bodies[0] and "宽带断了" in bodies[-1]


def test_malformed_events_are_400_or_dead_lettered_and_valid_ones_around_them_kept(pbx):
    assert pbx.event("CA-1", "ringing", 1, T0).status_code == 200
    ts = int(time.time())
    body = b"{not json"
    response = pbx.client.post(
        pbx.path,
        data=body,
        headers={"X-CTI-Timestamp": str(ts), "X-CTI-Signature": sign(SECRET, str(ts), body)},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert pbx.event("CA-2", "exploded", 1, T0).status_code == 200  # signed and stored, then quarantined
    assert pbx.event("CA-3", "ringing", 1, T0).status_code == 200
    assert [r.status for r in _records()] == [RecordStatus.PROCESSED, RecordStatus.DEAD, RecordStatus.PROCESSED]
    assert "Unknown CTI event type" in (_records()[1].last_error or "")
    assert [c.provider_call_id for c in _calls()] == ["CA-1", "CA-3"]
