"""Meta's webhooks and Graph API: WhatsApp Cloud API and Messenger, one signature scheme, two payload shapes.

Verification: the subscription check is a GET with hub.mode=subscribe, hub.verify_token (ours,
compared in constant time) and hub.challenge, echoed. Every POST carries X-Hub-Signature-256:
"sha256=" + HMAC-SHA256 of the raw body under the app secret; it is checked on the bytes as they
arrived, never on re-serialised JSON.

One app has one callback URL, so messages and delivery statuses arrive at the same address.
``hook_kind`` files a payload of statuses only as a status record (so a status for a send not
yet recorded is retried); statuses riding along with messages are applied best-effort with them
(``statuses_ride_with_messages``).

WhatsApp: value.messages[] (text, media with caption, buttons, interactive replies, location)
and value.statuses[] (sent, delivered, read, failed with errors[]). Senders are wa_ids, digits
of an E.164 number: we keep them as "+<wa_id>" so they meet the customer's phone identity, and
send to the digits. Replies: POST /<version>/<phone-number-id>/messages.

Messenger: entry[].messaging[] with message (echoes of our own sends skipped) and delivery
(mids -> delivered). Read receipts carry only a watermark, no message ids, and are not applied.
Replies: POST /<version>/me/messages with messaging_type RESPONSE.

Both refuse free-form messages more than 24 hours after the customer's last one; the service
checks ``reply_window`` before sending, and Graph's own refusal (131047, 2018278) is permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

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
    OutboundMessage,
    PayloadError,
    SendError,
    SendResult,
    SignatureError,
    WebhookRequest,
    open_media,
    read_small,
)
from channels.sanitize import clean_text, single_line
from channels.social.json_api import body_transport, dumps, loads_object

DEFAULT_API_BASE_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_TEXT = 10_000  # WhatsApp caps text at 4,096 characters, Messenger at 2,000
MAX_EVENTS = 1_000  # Meta batches at most 1,000 updates per request

_WHATSAPP_STATES = {
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "failed": DeliveryState.FAILED,
}
# Graph error codes a retry can fix: throttling, temporary unavailability.
_TRANSIENT_CODES = {1, 2, 4, 17, 32, 613, 80007, 130429, 131016, 131048, 131056}
_WINDOW_CODES = {131047, 2018278}  # WhatsApp re-engagement; Messenger's subcode outside the window


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("The body is not JSON.") from None
    if not isinstance(value, dict):
        raise PayloadError("The body is not a JSON object.")
    return value


def _list(value: object) -> list[Any]:
    return value[:MAX_EVENTS] if isinstance(value, list) else []


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(raw: object, fallback: datetime, *, millis: bool = False) -> datetime:
    """The provider's timestamp, never later than when we received it."""
    try:
        seconds = float(str(raw)) / (1000 if millis else 1)
        at = datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return fallback.astimezone(UTC)
    return min(at, fallback.astimezone(UTC))


class _MetaAdapter:
    family: ClassVar[str] = "social"
    channel: ClassVar[str]
    credential_fields: ClassVar[tuple[str, ...]] = ("app_secret", "access_token", "verify_token")
    reply_window: ClassVar[timedelta] = timedelta(hours=24)
    statuses_ride_with_messages: ClassVar[bool] = True

    # --- webhooks -------------------------------------------------------------------------------

    def handshake(self, query: Mapping[str, str], credentials: Mapping[str, str], settings: Mapping[str, str]) -> bytes:
        expected = credentials.get("verify_token", "")
        given = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe" or not expected or not hmac.compare_digest(expected.encode(), given.encode()):
            raise SignatureError("hub.mode or hub.verify_token is wrong.")
        challenge = query.get("hub.challenge", "")
        if not challenge:
            raise PayloadError("The verification request has no hub.challenge.")
        return single_line(challenge, 200).encode()

    def verify(self, request: WebhookRequest, credentials: Mapping[str, str], settings: Mapping[str, str]) -> None:
        header = request.header(SIGNATURE_HEADER) or ""
        if not header.startswith("sha256="):
            raise SignatureError(f"{SIGNATURE_HEADER} is missing.")
        secret = credentials.get("app_secret", "")
        if not secret:
            raise SignatureError("The account has no app secret to check the signature with.")
        expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), header.strip().lower().encode()):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body.")

    def provider_event_id(self, hook: HookKind, request: WebhookRequest) -> str:
        ids = sorted(self._event_ids(_json(request.body)))
        if len(ids) == 1:
            return single_line(ids[0], 160)
        # A batch (or nothing we know) is keyed by its content: Meta redelivers the same bytes.
        return ("batch:" if ids else "sha256:") + hashlib.sha256(request.body).hexdigest()

    def hook_kind(self, hook: HookKind, request: WebhookRequest) -> HookKind:
        """Statuses and messages share one callback URL; a payload of statuses only is a status record."""
        payload = _json(request.body)
        if self._has_statuses(payload) and not self._has_messages(payload):
            return HookKind.STATUS
        return hook

    def ack(self, hook: HookKind) -> HookAck:
        return HookAck(body=b"EVENT_RECEIVED", content_type="text/plain")

    # --- what each product implements -------------------------------------------------------------

    def _event_ids(self, payload: dict[str, Any]) -> Iterator[str]:
        raise NotImplementedError

    def _has_messages(self, payload: dict[str, Any]) -> bool:
        raise NotImplementedError

    def _has_statuses(self, payload: dict[str, Any]) -> bool:
        raise NotImplementedError

    # --- media ----------------------------------------------------------------------------------

    def fetch_media(
        self, attachment: Attachment, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> MediaDownload:
        """WhatsApp: two steps with the bearer token, GET /<version>/<media-id> gives a short-lived
        url (and mime_type, file_size), then GET that url with the same token. Messenger: the
        attachment's payload url is a public CDN link, fetched as it is."""
        if not attachment.media_id:
            return open_media(transport, attachment.url, timeout=20.0)
        token = credentials.get("access_token", "")
        if not token:
            raise MediaError("The account has no access token.", permanent=True)
        bearer = {"Authorization": f"Bearer {token}"}
        meta = open_media(transport, f"{self._graph(settings)}/{quote(attachment.media_id, safe='')}", headers=bearer, timeout=15.0)
        answer = loads_object(read_small(meta))
        url = answer.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise MediaError("The Graph API gave no media url.", permanent=False)
        download = open_media(transport, url, headers=bearer, timeout=20.0)
        size = answer.get("file_size")
        if isinstance(size, int) and download.length is None:
            download.length = size
        if isinstance(answer.get("mime_type"), str) and not download.media_type:
            download.media_type = str(answer["mime_type"]).split(";", 1)[0].strip().lower() or None
        return download

    # --- sending --------------------------------------------------------------------------------

    def _post(self, url: str, payload: Mapping[str, object], credentials: Mapping[str, str], transport: HttpTransport) -> dict[str, object]:
        token = credentials.get("access_token", "")
        if not token:
            raise SendError("The account has no access token.", permanent=True)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            response = body_transport(transport).post_body(url, dumps(payload), headers=headers, timeout=15.0)
        except OSError as exc:
            raise SendError(f"The Graph API could not be reached: {exc}", permanent=False) from None
        answer = loads_object(response.body)
        if response.status == 200:
            return answer
        error = _dict(answer.get("error"))
        code, subcode = error.get("code"), error.get("error_subcode")
        detail = f"Graph API answered {response.status}" + (f" (error {code}: {error.get('message')})" if code is not None else "")
        if code in _WINDOW_CODES or subcode in _WINDOW_CODES:
            detail += "; outside the 24-hour customer-service window"
        transient = response.status == 429 or response.status >= 500 or code in _TRANSIENT_CODES
        raise SendError(
            detail, permanent=not transient, code=str(subcode if subcode in _WINDOW_CODES else code) if code is not None else None
        )

    def _graph(self, settings: Mapping[str, str]) -> str:
        base = (settings.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")
        version = (settings.get("graph_version") or DEFAULT_GRAPH_VERSION).strip("/")
        return f"{base}/{quote(version, safe='.')}"


class WhatsAppCloud(_MetaAdapter):
    kind: ClassVar[str] = "social.whatsapp"
    channel: ClassVar[str] = "whatsapp"
    setting_fields: ClassVar[tuple[str, ...]] = ("phone_number_id", "graph_version", "api_base_url", "webhook_base_url")
    reply_window_advice: ClassVar[str] = "outside WhatsApp's 24-hour customer-service window; send an approved template instead"

    def _values(self, payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if payload.get("object") != "whatsapp_business_account":
            raise PayloadError("Not a WhatsApp Business Account notification.")
        for entry in _list(payload.get("entry")):
            for change in _list(_dict(entry).get("changes")):
                change = _dict(change)
                if change.get("field") == "messages":
                    yield _dict(change.get("value"))

    def _event_ids(self, payload: dict[str, Any]) -> Iterator[str]:
        for value in self._values(payload):
            for message in _list(value.get("messages")):
                yield str(_dict(message).get("id") or "")
            for status in _list(value.get("statuses")):
                status = _dict(status)
                yield f"{status.get('id')}:{status.get('status')}"

    def _has_messages(self, payload: dict[str, Any]) -> bool:
        return any(_list(v.get("messages")) for v in self._values(payload))

    def _has_statuses(self, payload: dict[str, Any]) -> bool:
        return any(_list(v.get("statuses")) for v in self._values(payload))

    def parse_inbound(self, body: bytes, *, account: str, raw_ref: str, received_at: datetime) -> list[InboundMessage]:
        messages = []
        for value in self._values(_json(body)):
            names = {
                str(_dict(c).get("wa_id")): single_line(str(_dict(_dict(c).get("profile")).get("name") or ""), 120)
                for c in _list(value.get("contacts"))
            }
            ours = single_line(str(_dict(value.get("metadata")).get("phone_number_id") or ""), 64) or None
            for raw in _list(value.get("messages")):
                parsed = self._message(_dict(raw), names, ours, account=account, raw_ref=raw_ref, received_at=received_at)
                if parsed is not None:
                    messages.append(parsed)
        return messages

    def _message(
        self, raw: dict[str, Any], names: Mapping[str, str], ours: str | None, *, account: str, raw_ref: str, received_at: datetime
    ) -> InboundMessage | None:
        wa_id = single_line(str(raw.get("from") or ""), 32)
        message_id = single_line(str(raw.get("id") or ""), 160)
        if not wa_id.isdigit() or not message_id:
            raise PayloadError("A WhatsApp message has no id or no digits in 'from'.")
        kind = str(raw.get("type") or "")
        text, attachments, extra = _whatsapp_content(kind, raw)
        if text is None:
            return None  # reactions, system notices, unsupported types: nothing to answer
        if len(text) > MAX_TEXT:
            raise PayloadError(f"The message text is longer than {MAX_TEXT} characters.")
        sender = f"+{wa_id}"
        return InboundMessage(
            channel=self.channel,
            account=account,
            provider_message_id=message_id,
            sender=sender,
            sender_kind="whatsapp",
            recipient=ours,
            sender_name=names.get(wa_id) or None,
            conversation_key=f"{account}:{sender}",
            text=text,
            received_at=_time(raw.get("timestamp"), received_at),
            raw_ref=raw_ref,
            attachments=attachments,
            extra={"msg_type": single_line(kind, 32), **extra},
        )

    def parse_status(self, body: bytes) -> list[DeliveryUpdate]:
        updates = []
        for value in self._values(_json(body)):
            for raw in _list(value.get("statuses")):
                raw = _dict(raw)
                state = _WHATSAPP_STATES.get(str(raw.get("status") or "").lower())
                if state is None or not raw.get("id"):
                    continue  # "deleted", "warning" and the like say nothing about delivery
                error = _dict(next(iter(_list(raw.get("errors"))), {}))
                detail = _dict(error.get("error_data")).get("details") or error.get("message") or error.get("title")
                updates.append(
                    DeliveryUpdate(
                        provider_message_id=single_line(str(raw["id"]), 160),
                        state=state,
                        raw_status=str(raw["status"]).lower(),
                        error_code=single_line(str(error["code"]), 16) if error.get("code") is not None else None,
                        error_message=single_line(str(detail), 300) if detail else None,
                    )
                )
        return updates

    def send(
        self, message: OutboundMessage, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> SendResult:
        phone_number_id = settings.get("phone_number_id", "")
        if not phone_number_id:
            raise SendError("The account has no phone_number_id.", permanent=True)
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.to.lstrip("+"),
            "type": "text",
            "text": {"preview_url": False, "body": message.text},
        }
        answer = self._post(f"{self._graph(settings)}/{quote(phone_number_id, safe='')}/messages", payload, credentials, transport)
        ids = [_dict(m).get("id") for m in _list(answer.get("messages"))]
        if not ids or not isinstance(ids[0], str):
            raise SendError("The Graph API answered without a message id.", permanent=False)
        # Accepted, not yet sent: the "sent" status webhook says when it leaves.
        return SendResult(provider_message_id=ids[0], state=DeliveryState.QUEUED, raw_status="accepted")


def _whatsapp_content(kind: str, raw: dict[str, Any]) -> tuple[str | None, tuple[Attachment, ...], dict[str, str]]:
    if kind == "text":
        return clean_text(str(_dict(raw.get("text")).get("body") or "")), (), {}
    if kind in ("image", "audio", "video", "document", "sticker"):
        media = _dict(raw.get(kind))
        caption = clean_text(str(media.get("caption") or ""))
        extra = {"media_id": single_line(str(media.get("id") or ""), 128)}
        if media.get("mime_type"):
            extra["mime_type"] = single_line(str(media["mime_type"]), 127)
        if media.get("filename"):
            extra["filename"] = single_line(str(media["filename"]), 200)
        attachments = (
            (Attachment(url="", media_id=extra["media_id"], media_type=extra.get("mime_type"), filename=extra.get("filename")),)
            if extra["media_id"]
            else ()
        )
        return (f"[{kind}] {caption}".strip()), attachments, extra
    if kind == "button":
        return clean_text(str(_dict(raw.get("button")).get("text") or "")), (), {}
    if kind == "interactive":
        interactive = _dict(raw.get("interactive"))
        reply = _dict(interactive.get("button_reply")) or _dict(interactive.get("list_reply"))
        return clean_text(str(reply.get("title") or "")), (), {"reply_id": single_line(str(reply.get("id") or ""), 200)}
    if kind == "location":
        location = _dict(raw.get("location"))
        label = clean_text(" ".join(str(location.get(k) or "") for k in ("name", "address")).strip())
        return f"[location] {label} ({location.get('latitude')}, {location.get('longitude')})".strip(), (), {}
    return None, (), {}


class Messenger(_MetaAdapter):
    kind: ClassVar[str] = "social.messenger"
    channel: ClassVar[str] = "messenger"
    setting_fields: ClassVar[tuple[str, ...]] = ("page_id", "graph_version", "api_base_url", "webhook_base_url")
    reply_window_advice: ClassVar[str] = (
        "outside Messenger's 24-hour standard messaging window; the customer has to write again (or use a message tag)"
    )

    def _events(self, payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if payload.get("object") != "page":
            raise PayloadError("Not a Messenger (page) notification.")
        for entry in _list(payload.get("entry")):
            for event in _list(_dict(entry).get("messaging")):
                yield _dict(event)

    def _event_ids(self, payload: dict[str, Any]) -> Iterator[str]:
        for event in self._events(payload):
            if _dict(event.get("message")).get("mid"):
                yield str(event["message"]["mid"])
            for mid in _list(_dict(event.get("delivery")).get("mids")):
                yield f"{mid}:delivered"

    def _has_messages(self, payload: dict[str, Any]) -> bool:
        return any(event.get("message") for event in self._events(payload))

    def _has_statuses(self, payload: dict[str, Any]) -> bool:
        return any(event.get("delivery") or event.get("read") for event in self._events(payload))

    def parse_inbound(self, body: bytes, *, account: str, raw_ref: str, received_at: datetime) -> list[InboundMessage]:
        messages = []
        for event in self._events(_json(body)):
            message = _dict(event.get("message"))
            if not message or message.get("is_echo"):
                continue  # our own sends come back as echoes
            psid = single_line(str(_dict(event.get("sender")).get("id") or ""), 64)
            mid = single_line(str(message.get("mid") or ""), 160)
            if not psid or not mid:
                raise PayloadError("A Messenger message has no sender id or mid.")
            text = clean_text(str(message.get("text") or ""))
            if len(text) > MAX_TEXT:
                raise PayloadError(f"The message text is longer than {MAX_TEXT} characters.")
            attachments = tuple(
                Attachment(url=single_line(str(url), 2000), media_type=single_line(str(_dict(a).get("type") or ""), 32) or None)
                for a in _list(message.get("attachments"))
                if isinstance(url := _dict(_dict(a).get("payload")).get("url"), str) and url.startswith(("https://", "http://"))
            )
            if not text and not attachments:
                continue  # stickers without a URL, quick-reaction noise
            messages.append(
                InboundMessage(
                    channel=self.channel,
                    account=account,
                    provider_message_id=mid,
                    sender=psid,
                    sender_kind="messenger",
                    recipient=single_line(str(_dict(event.get("recipient")).get("id") or ""), 64) or None,
                    conversation_key=f"{account}:{psid}",
                    text=text or "[attachment]",
                    received_at=_time(event.get("timestamp"), received_at, millis=True),
                    raw_ref=raw_ref,
                    attachments=attachments,
                )
            )
        return messages

    def parse_status(self, body: bytes) -> list[DeliveryUpdate]:
        updates = []
        for event in self._events(_json(body)):
            for mid in _list(_dict(event.get("delivery")).get("mids")):
                updates.append(
                    DeliveryUpdate(provider_message_id=single_line(str(mid), 160), state=DeliveryState.DELIVERED, raw_status="delivered")
                )
        return updates

    def send(
        self, message: OutboundMessage, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> SendResult:
        payload = {"recipient": {"id": message.to}, "messaging_type": "RESPONSE", "message": {"text": message.text}}
        answer = self._post(f"{self._graph(settings)}/me/messages", payload, credentials, transport)
        mid = answer.get("message_id")
        if not isinstance(mid, str) or not mid:
            raise SendError("The Graph API answered without a message_id.", permanent=False)
        return SendResult(provider_message_id=mid, state=DeliveryState.SENT, raw_status="sent")
