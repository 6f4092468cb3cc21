"""Failures in processing: quarantined with their error, retried from the database, dead-lettered, replayed;
and the sweeper's safety net for records whose enqueue was lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from channels.base import PayloadError
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound import contacts, tasks
from service_hub.inbound.models import InboundRecord, RecordStatus
from service_hub.tickets.models import Channel, Ticket
from tests.inbound.conftest import SID


def _record() -> InboundRecord:
    db.session.expire_all()
    return db.session.scalars(select(InboundRecord).order_by(InboundRecord.id.desc())).first()


def _due_now(record: InboundRecord) -> None:
    record.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def _sms_ticket_count() -> int:
    return len(db.session.scalars(select(Ticket.id).where(Ticket.channel == Channel.SMS)).all())


def test_a_signed_but_unusable_message_is_acknowledged_and_dead_lettered_with_its_error(sms):
    response = sms.post(sms.path, {"MessageSid": "SM" + "d" * 32, "AccountSid": SID, "Body": "no sender"})
    assert response.status_code == 200  # stored: the provider must not retry it forever
    record = _record()
    assert record.status == RecordStatus.DEAD and "From" in record.last_error and record.attempts == 1
    dead = sms.admin.get("/api/v1/inbound/dead").json
    assert [d["id"] for d in dead] == [record.id]
    assert "no+sender" in dead[0]["body"] and dead[0]["last_error"].startswith("PayloadError")


def test_a_dead_letter_is_replayed_once_the_cause_is_fixed(sms, monkeypatch):
    real_deliver = contacts.deliver

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PayloadError("the parser of this release cannot read it")

    monkeypatch.setattr(contacts, "deliver", broken)
    sms.inbound("hello")
    record = _record()
    assert record.status == RecordStatus.DEAD and _sms_ticket_count() == 0

    monkeypatch.setattr(contacts, "deliver", real_deliver)  # the fix is deployed
    replayed = sms.admin.post(f"/api/v1/inbound/{record.id}/replay")
    assert replayed.status_code == 202
    record = _record()
    assert record.status == RecordStatus.PROCESSED and record.ticket_id is not None and _sms_ticket_count() == 1
    assert sms.admin.get("/api/v1/inbound/dead").json == []
    assert sms.admin.post(f"/api/v1/inbound/{record.id}/replay").status_code == 409  # processed: not again


def test_transient_errors_back_off_through_the_database_then_dead_letter(sms, monkeypatch, channel_settings, sweep):
    channel_settings(max_attempts=3)

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(contacts, "deliver", flaky)
    sms.inbound("hello")
    record = _record()
    assert record.status == RecordStatus.FAILED and record.attempts == 1 and "hiccup" in record.last_error
    assert record.next_attempt_at > utcnow() + timedelta(seconds=4)  # back-off, stored, not a Celery countdown
    assert sweep() == {"records": 0, "deliveries": 0}  # not due yet
    for attempts in (2, 3):
        _due_now(record)
        assert sweep()["records"] == 1
        record = _record()
        assert record.attempts == attempts
    assert record.status == RecordStatus.DEAD and record.next_attempt_at is None
    _due_now(record)
    assert sweep()["records"] == 0


def test_a_stored_record_whose_enqueue_was_lost_is_picked_up_by_the_sweeper(sms, monkeypatch, sweep):
    def broker_down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(tasks.process_inbound_task, "delay", broker_down)
    response, _ = sms.inbound("are you there?")
    assert response.status_code == 200  # committed, so acknowledged
    record = _record()
    assert record.status == RecordStatus.RECEIVED and record.attempts == 0
    monkeypatch.undo()
    assert sweep()["records"] == 0  # its lease has not run out: maybe it is still in a queue
    _due_now(record)
    assert sweep()["records"] == 1
    assert _record().status == RecordStatus.PROCESSED and _sms_ticket_count() == 1


def test_a_status_callback_before_the_send_is_recorded_is_retried_not_lost(sms):
    response = sms.status("SM" + "7" * 32, "delivered")
    assert response.status_code == 204
    record = _record()
    assert record.status == RecordStatus.FAILED and "NotYetKnown" in record.last_error


def test_dead_letters_and_replay_are_for_admins_only(sms, world, login_as):
    agent = login_as(world.agent_a)
    assert agent.get("/api/v1/inbound/dead").status_code == 403
    assert agent.post("/api/v1/inbound/1/replay").status_code == 403
    assert sms.admin.post("/api/v1/inbound/999999/replay").status_code == 404
