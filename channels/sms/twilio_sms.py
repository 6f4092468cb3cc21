"""Twilio Programmable Messaging (and compatible gateways): signed form webhooks, the REST send.

Inbound and status webhooks are application/x-www-form-urlencoded, signed with X-Twilio-Signature
over the URL Twilio called plus the sorted fields (the twilio package's RequestValidator checks
it). Twilio reassembles concatenated SMS before the webhook: Body is the whole text and
NumSegments says how many parts it came in. Outbound is POST
{api_base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json with Basic auth.

Twilio's Messages API takes no idempotency key, so ``OutboundMessage.idempotency_key`` is not sent;
the service avoids double sends by recording the returned SID (see service_hub.inbound.outbound).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import parse_qsl, quote, urlsplit

from twilio.request_validator import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm

from channels.base import (
    Attachment,
    DeliveryState,
    DeliveryUpdate,
    HookAck,
    HookKind,
    HttpTransport,
    InboundMessage,
    MediaDownload,
    MediaError,
    OptedOut,
    OutboundMessage,
    PayloadError,
    SendError,
    SendResult,
    SignatureError,
    TooLarge,
    WebhookRequest,
    open_media,
)
from channels.consent import consent_keyword
from channels.sanitize import clean_text, single_line

DEFAULT_API_BASE_URL = "https://api.twilio.com"
MAX_FIELDS = 100  # Twilio sends ~20 fields, plus 2 per media item (at most 10)
MAX_MEDIA = 10
MAX_TEXT = 10_000  # Twilio caps a message at 1,600 characters; anything far beyond is not Twilio

# Twilio's MessageStatus values, reduced. Intermediate ones (accepted, sending) count as queued/sent.
_STATES = {
    "accepted": DeliveryState.QUEUED,
    "scheduled": DeliveryState.QUEUED,
    "queued": DeliveryState.QUEUED,
    "sending": DeliveryState.QUEUED,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "undelivered": DeliveryState.FAILED,
    "failed": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
}
# Twilio error codes that no retry will fix: unsubscribed recipient, invalid or unreachable number.
_OPTED_OUT_CODES = {"21610"}
_PERMANENT_CODES = {"21211", "21214", "21612", "21614", "21408", "21606", "21659", "21660"}

TWIML_EMPTY = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class _Fields:
    """Repeated form fields as the RequestValidator reads them (it asks for getlist)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self._pairs if k == name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter({k for k, _ in self._pairs})

    def __len__(self) -> int:
        return len(self._pairs)


def parse_form(body: bytes) -> dict[str, str]:
    """The form fields (the first of a repeated name); PayloadError or TooLarge on bad input."""
    return dict(reversed(_pairs(body)))


def _pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("The form body is not UTF-8.") from None
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        if "Max number of fields" in str(exc):
            raise TooLarge(f"More than {MAX_FIELDS} form fields.") from None
        raise PayloadError("The body is not a form (application/x-www-form-urlencoded).") from None


class TwilioSms:
    kind: ClassVar[str] = "sms.twilio"
    family: ClassVar[str] = "sms"
    credential_fields: ClassVar[tuple[str, ...]] = ("account_sid", "auth_token")
    # from_number or messaging_service_sid sends; api_base_url points at Twilio or a compatible
    # gateway (tests: a local server); webhook_base_url is the public URL Twilio signs, when a
    # TLS-terminating proxy sits in front of us.
    setting_fields: ClassVar[tuple[str, ...]] = ("from_number", "messaging_service_sid", "api_base_url", "webhook_base_url")

    # --- webhooks -------------------------------------------------------------------------------

    def verify(self, request: WebhookRequest, credentials: Mapping[str, str], settings: Mapping[str, str]) -> None:
        signature = request.header(SIGNATURE_HEADER)
        if not signature:
            raise SignatureError(f"{SIGNATURE_HEADER} is missing.")
        token = credentials.get("auth_token", "")
        if not token:
            raise SignatureError("The account has no auth token to check the signature with.")
        params = _Fields(_pairs(request.body))
        algorithm = get_signature_algorithm(request.header(SIGNATURE_SETTINGS_HEADER))
        if not RequestValidator(token).validate(request.url, params, signature, algorithm=algorithm):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the request.")
        sid = parse_form(request.body).get("AccountSid")
        if sid and credentials.get("account_sid") and sid != credentials["account_sid"]:
            raise SignatureError("The webhook is for another Twilio account.")

    def provider_event_id(self, hook: HookKind, request: WebhookRequest) -> str:
        fields = parse_form(request.body)
        sid = fields.get("MessageSid") or fields.get("SmsMessageSid") or fields.get("SmsSid")
        if not sid:
            # Signed but without an id: keep it under its content hash, so processing quarantines it.
            return "sha256:" + hashlib.sha256(request.body).hexdigest()
        sid = single_line(sid, 64)
        if hook == HookKind.STATUS:
            return f"{sid}:{single_line(fields.get('MessageStatus') or fields.get('SmsStatus') or '', 24)}"
        return sid

    def ack(self, hook: HookKind) -> HookAck:
        if hook == HookKind.MESSAGE:
            # An empty TwiML response: no automatic reply from Twilio.
            return HookAck(body=TWIML_EMPTY, content_type="text/xml")
        return HookAck(body=b"", content_type="text/plain", status=204)

    # --- parsing --------------------------------------------------------------------------------

    def parse_inbound(self, body: bytes, *, account: str, raw_ref: str, received_at: datetime) -> list[InboundMessage]:
        fields = parse_form(body)
        sid = fields.get("MessageSid") or fields.get("SmsMessageSid") or fields.get("SmsSid")
        sender = single_line(fields.get("From", ""), 64)
        if not sid:
            raise PayloadError("The message has no MessageSid.")
        if not sender:
            raise PayloadError("The message has no From number.")
        text = clean_text(fields.get("Body", ""))
        if len(text) > MAX_TEXT:
            raise PayloadError(f"The message text is longer than {MAX_TEXT} characters.")
        attachments = tuple(self._media(fields))
        if not text and not attachments:
            raise PayloadError("The message has neither text nor media.")
        return [
            InboundMessage(
                channel=self.family,
                account=account,
                provider_message_id=single_line(sid, 64),
                sender=sender,
                sender_kind="phone",
                recipient=single_line(fields.get("To", ""), 64) or None,
                conversation_key=f"{account}:{sender}",
                text=text,
                received_at=received_at.astimezone(UTC),
                raw_ref=raw_ref,
                attachments=attachments,
                segments=_int(fields.get("NumSegments"), 1),
                consent=consent_keyword(text),
                extra={k: single_line(fields[k], 64) for k in ("FromCountry", "FromCity", "OptOutType") if fields.get(k)},
            )
        ]

    def _media(self, fields: Mapping[str, str]) -> list[Attachment]:
        count = min(_int(fields.get("NumMedia"), 0), MAX_MEDIA)
        media = []
        for i in range(count):
            url = fields.get(f"MediaUrl{i}", "")
            if url.startswith("https://") or url.startswith("http://"):
                media.append(
                    Attachment(url=single_line(url, 2000), media_type=single_line(fields.get(f"MediaContentType{i}", ""), 127) or None)
                )
        return media

    def parse_status(self, body: bytes) -> list[DeliveryUpdate]:
        fields = parse_form(body)
        sid = fields.get("MessageSid") or fields.get("SmsSid")
        raw = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()
        if not sid or not raw:
            raise PayloadError("The status callback has no MessageSid or MessageStatus.")
        state = _STATES.get(raw)
        if state is None:
            raise PayloadError(f"Unknown MessageStatus {raw!r}.")
        return [
            DeliveryUpdate(
                provider_message_id=single_line(sid, 64),
                state=state,
                raw_status=raw,
                error_code=single_line(fields["ErrorCode"], 16) if fields.get("ErrorCode") else None,
                error_message=single_line(fields["ErrorMessage"], 300) if fields.get("ErrorMessage") else None,
            )
        ]

    # --- media ----------------------------------------------------------------------------------

    def fetch_media(
        self, attachment: Attachment, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> MediaDownload:
        """MMS media: GET the MediaUrl with HTTP basic auth (Account SID, auth token), which Twilio
        requires when "HTTP Basic Authentication for media" is on and ignores otherwise. The
        credentials go only to the account's API host: a MediaUrl elsewhere is refused."""
        sid, token = credentials.get("account_sid", ""), credentials.get("auth_token", "")
        if not sid or not token:
            raise MediaError("The account has no Account SID or auth token.", permanent=True)
        api = urlsplit((settings.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/"))
        media = urlsplit(attachment.url)
        if (media.scheme, media.netloc.lower()) != (api.scheme, api.netloc.lower()):
            raise MediaError(f"The MediaUrl is not on the account's API host {api.netloc}; not fetched.", permanent=True)
        return open_media(transport, attachment.url, auth=(sid, token), timeout=20.0)

    # --- sending --------------------------------------------------------------------------------

    def send(
        self, message: OutboundMessage, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> SendResult:
        sid, token = credentials.get("account_sid", ""), credentials.get("auth_token", "")
        if not sid or not token:
            raise SendError("The account has no Account SID or auth token.", permanent=True)
        base = (settings.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{quote(sid, safe='')}/Messages.json"
        fields = {"To": message.to, "Body": message.text}
        if settings.get("messaging_service_sid"):
            fields["MessagingServiceSid"] = settings["messaging_service_sid"]
        elif settings.get("from_number"):
            fields["From"] = settings["from_number"]
        else:
            raise SendError("The account has neither a from_number nor a messaging_service_sid.", permanent=True)
        if message.status_callback_url:
            fields["StatusCallback"] = message.status_callback_url
        try:
            response = transport.post_form(url, fields, auth=(sid, token), headers={"Accept": "application/json"}, timeout=15.0)
        except OSError as exc:
            raise SendError(f"Twilio could not be reached: {exc}", permanent=False) from None
        payload = _json(response.body)
        if response.status in (200, 201):
            provider_id = str(payload.get("sid") or "")
            if not provider_id:
                raise SendError("Twilio answered without a message SID.", permanent=False)
            raw = str(payload.get("status") or "queued").lower()
            return SendResult(provider_message_id=provider_id, state=_STATES.get(raw, DeliveryState.QUEUED), raw_status=raw)
        code = str(payload.get("code") or "") or None
        detail = f"Twilio answered {response.status}" + (f" (error {code}: {payload.get('message')})" if code else "")
        if code in _OPTED_OUT_CODES:
            raise OptedOut(detail)
        transient = response.status == 429 or response.status >= 500
        raise SendError(detail, permanent=not transient or code in _PERMANENT_CODES, code=code)


def _int(raw: str | None, default: int) -> int:
    try:
        return max(int(raw or ""), 0)
    except ValueError:
        return default


def _json(body: bytes) -> dict[str, object]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
