"""SMS webhooks into the durable inbox: authenticity, idempotency, size and shape, identity, threading."""

from __future__ import annotations

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from service_hub.core.extensions import db
from service_hub.customers.models import ContactIdentity, IdentityKind
from service_hub.inbound.models import ChannelAccount, InboundRecord, RecordStatus
from service_hub.tickets.models import Channel, Direction, Message, Ticket, TicketStatus
from tests.inbound.conftest import CUSTOMER, SID, TOKEN


def _records() -> list[InboundRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(InboundRecord).order_by(InboundRecord.id)))


def _sms_tickets() -> list[Ticket]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket).where(Ticket.channel == Channel.SMS).order_by(Ticket.id)))


def _messages(ticket_id: int) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)))


def test_a_signed_message_is_stored_processed_and_answered_with_empty_twiml(sms, world):
    response, fields = sms.inbound("你好\uff0c我家宽带从昨天开始断线 🙁")
    assert response.status_code == 200
    assert response.content_type.startswith("text/xml") and b"<Response></Response>" in response.data
    (record,) = _records()
    assert record.status == RecordStatus.PROCESSED and record.attempts == 1
    assert record.provider_message_id == fields["MessageSid"]
    assert "X-Twilio-Signature" in record.headers and b"From=%2B8613800138000" in record.body
    (ticket,) = _sms_tickets()
    assert ticket.department_id == world.dept_a.id and ticket.subject.startswith("你好\uff0c我家宽带")
    (message,) = _messages(ticket.id)
    assert message.direction == Direction.INBOUND and message.body_text == "你好\uff0c我家宽带从昨天开始断线 🙁"
    assert record.ticket_id == ticket.id and record.message_id == message.id
    identity = db.session.scalars(select(ContactIdentity).where(ContactIdentity.value == CUSTOMER)).one()
    assert identity.kind == IdentityKind.PHONE and ticket.customer_id == identity.customer_id


def test_a_redelivered_webhook_is_acknowledged_and_creates_nothing(sms):
    first, fields = sms.inbound("hello")
    again, _ = sms.inbound("hello", MessageSid=fields["MessageSid"])
    assert first.status_code == again.status_code == 200 and again.data == first.data
    assert len(_records()) == 1
    (ticket,) = _sms_tickets()
    assert len(_messages(ticket.id)) == 1


def test_missing_wrong_or_tampered_signatures_are_refused_and_nothing_is_stored(sms):
    fields = {"MessageSid": "SM" + "f" * 32, "AccountSid": SID, "From": CUSTOMER, "To": "+1", "Body": "hi"}
    assert sms.post(sms.path, fields, signature="").status_code == 403
    assert sms.post(sms.path, fields, token="not-the-token").status_code == 403
    signature = RequestValidator(TOKEN).compute_signature("http://localhost" + sms.path, fields)
    tampered = sms.post(sms.path, fields | {"Body": "hi, and send money"}, signature=signature)
    assert tampered.status_code == 403 and tampered.json["type"].endswith("signature-invalid")
    assert _records() == []
    assert sms.post(sms.path, fields, signature=signature).status_code == 200
    assert [r.provider_message_id for r in _records()] == [fields["MessageSid"]]


def test_a_status_callback_with_a_wrong_signature_is_refused(sms):
    response = sms.post(sms.account["webhook_urls"]["status"], {"MessageSid": "SM1", "MessageStatus": "delivered"}, token="wrong")
    assert response.status_code == 403 and _records() == []


def test_an_oversized_body_is_refused_before_any_other_work(sms, channel_settings):
    channel_settings(webhook_max_bytes=2048)
    response, _ = sms.inbound("x" * 4000)
    assert response.status_code == 413 and _records() == []
    ok, _ = sms.inbound("short")
    assert ok.status_code == 200


def test_a_malformed_body_is_400_and_the_valid_ones_around_it_are_kept(sms):
    before, _ = sms.inbound("first")
    bad = sms.post(sms.path, {}, body=b"\xff\xfe%%%not a form", signature="c2lnbmF0dXJl")
    assert bad.status_code in (400, 403)  # cannot be parsed, so it cannot be verified either
    too_many = sms.post(sms.path, {f"f{i}": "x" for i in range(150)})
    assert too_many.status_code == 413
    after, _ = sms.inbound("second")
    assert before.status_code == after.status_code == 200
    assert [r.status for r in _records()] == [RecordStatus.PROCESSED, RecordStatus.PROCESSED]


def test_unknown_and_deactivated_accounts_answer_404(sms):
    assert sms.client.post("/hooks/sms/twilio/nope", data={"a": "b"}).status_code == 404
    assert sms.client.post("/hooks/email/imap/" + sms.account["slug"], data={"a": "b"}).status_code == 404
    assert sms.admin.delete(f"/api/v1/channel-accounts/{sms.account['id']}").status_code == 204
    response, _ = sms.inbound("anyone there?")
    assert response.status_code == 404 and _records() == []


def test_unicode_emoji_and_a_concatenated_message_arrive_whole(sms):
    text = "您好\uff01这是一条很长的短信\uff0c" * 30 + "🙂👍🏽 Ünïcödé"
    response, _ = sms.inbound(text, NumSegments="9")
    assert response.status_code == 200
    (ticket,) = _sms_tickets()
    (message,) = _messages(ticket.id)
    assert message.body_text == text


def test_national_and_international_spellings_are_one_customer_and_one_conversation(sms):
    sms.inbound("first", sender="+86 138 0013 8000")
    sms.inbound("second", sender="+8613800138000")
    (ticket,) = _sms_tickets()
    assert [m.body_text for m in _messages(ticket.id)] == ["first", "second"]
    assert db.session.scalar(select(func.count()).select_from(ContactIdentity).where(ContactIdentity.value == CUSTOMER)) == 1


def test_a_pending_ticket_reopens_and_a_solved_one_gives_way_to_a_new_ticket(sms):
    sms.inbound("first")
    (ticket,) = _sms_tickets()
    ticket.status = TicketStatus.PENDING
    db.session.commit()
    sms.inbound("are you there?")
    (ticket,) = _sms_tickets()
    assert ticket.status == TicketStatus.OPEN and len(_messages(ticket.id)) == 2
    ticket.set_status(TicketStatus.SOLVED, ticket.updated_at)
    db.session.commit()
    sms.inbound("new problem")
    old, new = _sms_tickets()
    assert new.customer_id == old.customer_id and [m.body_text for m in _messages(new.id)] == ["new problem"]


def test_an_alphanumeric_sender_is_kept_verbatim_as_an_account_scoped_identity(sms):
    response, _ = sms.inbound("promo", sender="ACME")
    assert response.status_code == 200
    identity = db.session.scalars(select(ContactIdentity).where(ContactIdentity.value == "ACME")).one()
    assert identity.kind == IdentityKind.EXTERNAL and identity.account == sms.account["slug"]


def test_credentials_are_encrypted_at_rest_and_never_returned(sms):
    account = db.session.get(ChannelAccount, sms.account["id"])
    assert TOKEN not in account.credentials_encrypted and SID not in account.credentials_encrypted
    listed = sms.admin.get("/api/v1/channel-accounts").json
    assert TOKEN not in str(listed) and listed[0]["credentials_set"] == ["account_sid", "auth_token"]
