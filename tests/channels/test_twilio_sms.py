"""The Twilio SMS adapter on its own: signatures made by twilio's RequestValidator, parsing, the REST send."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from channels import registry
from channels.base import (
    DeliveryState,
    HookKind,
    OptedOut,
    OutboundMessage,
    PayloadError,
    SendError,
    SignatureError,
    TooLarge,
    WebhookRequest,
)
from channels.consent import START, STOP, consent_keyword
from channels.http_transport import RequestsTransport
from channels.sanitize import clean_html, single_line
from channels.sms.twilio_sms import TWIML_EMPTY, TwilioSms

TOKEN = "12345678901234567890123456789012"
SID = "AC" + "0" * 32
URL = "https://desk.example.com/hooks/sms/twilio/abc"
CREDENTIALS = {"account_sid": SID, "auth_token": TOKEN}
adapter = TwilioSms()


def inbound_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": SID,
        "From": "+8613800138000",
        "To": "+14155550100",
        "Body": "你好\uff0c我的宽带坏了 🙁",
        "NumSegments": "1",
        "NumMedia": "0",
    }
    return fields | overrides


def signed(fields: dict[str, str], url: str = URL, token: str = TOKEN) -> WebhookRequest:
    signature = RequestValidator(token).compute_signature(url, fields)
    return WebhookRequest(url=url, method="POST", headers={"X-Twilio-Signature": signature}, body=urlencode(fields).encode())


def test_registered_under_its_kind():
    assert registry.adapter_for("sms.twilio").kind == "sms.twilio"
    with pytest.raises(KeyError):
        registry.adapter_for("sms.nobody")


def test_a_request_signed_by_twilios_validator_passes():
    adapter.verify(signed(inbound_fields()), CREDENTIALS, {})


def test_missing_wrong_and_foreign_signatures_are_refused():
    request = signed(inbound_fields())
    with pytest.raises(SignatureError, match="missing"):
        adapter.verify(WebhookRequest(URL, "POST", {}, request.body), CREDENTIALS, {})
    with pytest.raises(SignatureError):
        adapter.verify(signed(inbound_fields(), token="x" * 32), CREDENTIALS, {})
    with pytest.raises(SignatureError):  # signed for another URL (another account's webhook)
        adapter.verify(WebhookRequest(URL + "x", "POST", request.headers, request.body), CREDENTIALS, {})


def test_one_changed_parameter_breaks_the_signature():
    request = signed(inbound_fields())
    tampered = request.body.replace(b"From=%2B8613800138000", b"From=%2B8613800138001")
    assert tampered != request.body
    with pytest.raises(SignatureError):
        adapter.verify(WebhookRequest(URL, "POST", request.headers, tampered), CREDENTIALS, {})


def test_a_signature_for_another_twilio_account_is_refused():
    with pytest.raises(SignatureError, match="another Twilio account"):
        adapter.verify(signed(inbound_fields(AccountSid="AC" + "9" * 32)), CREDENTIALS, {})


def test_unicode_and_a_concatenated_message_parse_whole():
    long_text = "长消息" * 200 + " end 👍"
    fields = inbound_fields(Body=long_text, NumSegments="7")
    (message,) = adapter.parse_inbound(urlencode(fields).encode(), account="abc", raw_ref="inbound:1", received_at=datetime.now(UTC))
    assert message.text == long_text
    assert message.segments == 7
    assert message.sender == "+8613800138000" and message.sender_kind == "phone"
    assert message.conversation_key == "abc:+8613800138000"
    assert message.channel == "sms" and message.provider_message_id == fields["MessageSid"]


def test_media_urls_become_attachments_and_controls_are_dropped():
    fields = inbound_fields(
        Body="see\x00 photo\x1b[31m", NumMedia="2", MediaUrl0="https://api.twilio.com/m/1", MediaContentType0="image/jpeg"
    )
    fields |= {"MediaUrl1": "javascript:alert(1)"}
    (message,) = adapter.parse_inbound(urlencode(fields).encode(), account="abc", raw_ref="r", received_at=datetime.now(UTC))
    assert message.text == "see photo[31m"
    assert [a.url for a in message.attachments] == ["https://api.twilio.com/m/1"]


def test_malformed_payloads_are_payload_errors():
    with pytest.raises(PayloadError):
        adapter.parse_inbound(b"\xff\xfe not utf-8", account="a", raw_ref="r", received_at=datetime.now(UTC))
    with pytest.raises(PayloadError):
        adapter.parse_inbound(b"just some text", account="a", raw_ref="r", received_at=datetime.now(UTC))
    with pytest.raises(PayloadError, match="From"):
        adapter.parse_inbound(urlencode(inbound_fields(From="")).encode(), account="a", raw_ref="r", received_at=datetime.now(UTC))
    with pytest.raises(TooLarge):
        adapter.parse_inbound(
            urlencode({f"f{i}": "x" for i in range(500)}).encode(), account="a", raw_ref="r", received_at=datetime.now(UTC)
        )


def test_provider_event_ids():
    request = signed(inbound_fields())
    assert adapter.provider_event_id(HookKind.MESSAGE, request) == "SM" + "a" * 32
    status = signed({"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert adapter.provider_event_id(HookKind.STATUS, status) == "SM1:delivered"
    no_id = signed({"From": "+1"})
    assert adapter.provider_event_id(HookKind.MESSAGE, no_id).startswith("sha256:")


def test_status_callbacks():
    (update,) = adapter.parse_status(urlencode({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}).encode())
    assert update.state == DeliveryState.FAILED and update.error_code == "30003"
    (update,) = adapter.parse_status(b"MessageSid=SM1&MessageStatus=delivered")
    assert update.state == DeliveryState.DELIVERED
    with pytest.raises(PayloadError):
        adapter.parse_status(b"MessageSid=SM1&MessageStatus=exploded")


def test_acknowledgements():
    assert adapter.ack(HookKind.MESSAGE).body == TWIML_EMPTY
    assert adapter.ack(HookKind.STATUS).status == 204


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[("STOP", STOP), (" stop ", STOP), ("Stop!", STOP), ("\uff33\uff34\uff2f\uff30", STOP), ("退订", STOP), ("TD", STOP)],
        *[("unsubscribe", STOP), ("START", START), ("unstop", START), ("please stop calling me", None), ("hello", None)],
    ],
)
def test_consent_keywords(text, expected):
    assert consent_keyword(text) == expected


def test_html_is_sanitised_and_header_values_are_single_lines():
    cleaned = clean_html('<p onclick="x()">hi<script>alert(1)</script><a href="javascript:alert(1)">l</a><svg><g/></svg></p>')
    assert "script" not in cleaned and "onclick" not in cleaned and "javascript" not in cleaned and "svg" not in cleaned
    assert single_line("Name\r\nBcc: evil@example.com") == "Name Bcc: evil@example.com"


# --- sending, against a local server that records what the REST client sent ---------------------


def test_send_posts_the_twilio_rest_shape(provider):
    settings = {"api_base_url": provider.url, "from_number": "+14155550100"}
    message = OutboundMessage(to="+8613800138000", text="您好 👋", idempotency_key="k1", status_callback_url="https://desk/cb")
    result = adapter.send(message, CREDENTIALS, settings, RequestsTransport())
    assert result.provider_message_id.startswith("SM") and result.state == DeliveryState.QUEUED
    (request,) = provider.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == {"To": "+8613800138000", "From": "+14155550100", "Body": "您好 👋", "StatusCallback": "https://desk/cb"}


def test_send_with_a_messaging_service(provider):
    settings = {"api_base_url": provider.url, "messaging_service_sid": "MG123", "from_number": "+1415"}
    adapter.send(OutboundMessage(to="+1", text="x", idempotency_key="k"), CREDENTIALS, settings, RequestsTransport())
    assert provider.requests[0].form == {"To": "+1", "MessagingServiceSid": "MG123", "Body": "x"}


def test_send_errors_say_whether_a_retry_can_help(provider):
    settings = {"api_base_url": provider.url, "from_number": "+1415"}
    message = OutboundMessage(to="+1", text="x", idempotency_key="k")
    provider.answers.extend(
        [
            (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}),
            (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}),
            (503, {"message": "busy"}),
            (429, {"code": 20429, "message": "Too Many Requests"}),
        ]
    )
    with pytest.raises(OptedOut):
        adapter.send(message, CREDENTIALS, settings, RequestsTransport())
    with pytest.raises(SendError) as permanent:
        adapter.send(message, CREDENTIALS, settings, RequestsTransport())
    assert permanent.value.permanent and permanent.value.code == "21211"
    for _ in range(2):
        with pytest.raises(SendError) as transient:
            adapter.send(message, CREDENTIALS, settings, RequestsTransport())
        assert not transient.value.permanent


def test_an_unreachable_provider_is_a_transient_error():
    settings = {"api_base_url": "http://127.0.0.1:9", "from_number": "+1415"}
    with pytest.raises(SendError) as error:
        adapter.send(OutboundMessage(to="+1", text="x", idempotency_key="k"), CREDENTIALS, settings, RequestsTransport())
    assert not error.value.permanent


def test_our_request_is_the_one_twilios_own_rest_client_makes(provider):
    from twilio.rest import Client

    client = Client(SID, TOKEN)
    client.api.base_url = provider.url  # the real client library, pointed at the recording server
    client.messages.create(to="+8613800138000", from_="+14155550100", body="您好", status_callback="https://desk/cb")
    message = OutboundMessage(to="+8613800138000", text="您好", idempotency_key="k", status_callback_url="https://desk/cb")
    adapter.send(message, CREDENTIALS, {"api_base_url": provider.url, "from_number": "+14155550100"}, RequestsTransport())
    theirs, ours = provider.requests
    assert (ours.path, ours.form, ours.headers["Authorization"]) == (theirs.path, theirs.form, theirs.headers["Authorization"])
