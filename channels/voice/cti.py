"""A PBX's CTI link: HMAC-signed JSON call events (ringing, IVR, queued, answered, ended, media).

The PBX POSTs one JSON event per request to /hooks/phone/cti/<slug> with two headers:
X-CTI-Timestamp (Unix seconds) and X-CTI-Signature ("sha256=" + hex HMAC-SHA256 of
"<timestamp>.<raw body>" under the account's ``signing_secret``). The timestamp is inside the
signature, so an old request cannot be replayed with a fresh one: older (or further ahead) than
the window (``replay_window_seconds``, default 300) is refused. Within the window a replay has the
same event id (call id, type, sequence), which the durable inbox stores once.

Event body: {"call_id", "type", "sequence", "occurred_at" (ISO 8601 or Unix seconds), "from",
"to", "direction", "agent_id", "ivr" (the choice), "queue", "recording_url", "voicemail_url",
"transcript", "cause"}.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from channels.base import (
    DeliveryUpdate,
    HookAck,
    HookKind,
    HttpTransport,
    InboundMessage,
    OutboundMessage,
    PayloadError,
    ReplayError,
    SendError,
    SendResult,
    SignatureError,
    WebhookRequest,
)
from channels.sanitize import clean_text, single_line
from channels.voice.events import CallEvent, CallEventType

SIGNATURE_HEADER = "X-CTI-Signature"
TIMESTAMP_HEADER = "X-CTI-Timestamp"
DEFAULT_WINDOW_SECONDS = 300
MAX_TRANSCRIPT = 20_000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at timestamp (what the PBX computes)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_signature(secret: str, timestamp: str | None, signature: str | None, body: bytes, *, now: float, window: int) -> None:
    if not secret:
        raise SignatureError("The account has no signing secret to check the signature with.")
    if not timestamp or not signature:
        raise SignatureError(f"{SIGNATURE_HEADER} or {TIMESTAMP_HEADER} is missing.")
    # The signature first: an unsigned timestamp says nothing, so it is not worth a distinct answer.
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the request.")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not Unix seconds.") from None
    if abs(now - sent) > window:
        raise ReplayError(f"The event was signed {int(now - sent)} s ago; the window is {window} s.")


def _object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("The CTI event is not JSON.") from None
    if not isinstance(value, dict):
        raise PayloadError("The CTI event is not a JSON object.")
    return value


def _text(value: Any, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | int):
        raise PayloadError("A CTI field that should be text is not.")
    return single_line(str(value), limit) or None


def _when(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadError(f"occurred_at {value[:40]!r} is not ISO 8601.") from None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    raise PayloadError("The CTI event has no occurred_at.")


def _url(value: Any) -> str | None:
    url = _text(value, 2000)
    if url is not None and not url.startswith(("https://", "http://")):
        raise PayloadError("A media URL must be http(s).")
    return url


def parse_event(body: bytes) -> CallEvent:
    """One CTI event, normalised; PayloadError on anything that is not a well-formed event."""
    data = _object(body)
    call_id = _text(data.get("call_id"), 64)
    if not call_id:
        raise PayloadError("The CTI event has no call_id.")
    try:
        kind = CallEventType(str(data.get("type", "")).strip().lower())
    except ValueError:
        raise PayloadError(f"Unknown CTI event type {str(data.get('type'))[:40]!r}.") from None
    sequence, agent_id = data.get("sequence"), data.get("agent_id")
    if sequence is not None and (not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0):
        raise PayloadError("sequence must be a non-negative integer.")
    if agent_id is not None:
        try:
            agent_id = int(agent_id)
        except (TypeError, ValueError):
            raise PayloadError("agent_id must be an integer.") from None
    transcript = data.get("transcript")
    if transcript is not None and not isinstance(transcript, str):
        raise PayloadError("transcript must be text.")
    event = CallEvent(
        call_id=call_id,
        type=kind,
        occurred_at=_when(data.get("occurred_at")),
        sequence=sequence,
        caller=_text(data.get("from"), 64),
        callee=_text(data.get("to"), 64),
        direction=_text(data.get("direction"), 16) or "inbound",
        agent_id=agent_id,
        ivr_choice=_text(data.get("ivr"), 64),
        queue=_text(data.get("queue"), 64),
        recording_url=_url(data.get("recording_url")),
        voicemail_url=_url(data.get("voicemail_url")),
        transcript=clean_text(transcript, MAX_TRANSCRIPT) if transcript else None,
        cause=_text(data.get("cause"), 32),
    )
    if kind == CallEventType.RINGING and not event.caller:
        raise PayloadError("A ringing event needs the caller's number (from).")
    return event


def event_id(body: bytes) -> str:
    """call id + type + sequence (or time): a replay of one event is one inbox row."""
    data = _object(body)
    call_id = _text(data.get("call_id"), 64)
    if not call_id:
        # Signed but without an id: kept under its content hash, so processing quarantines it.
        return "sha256:" + hashlib.sha256(body).hexdigest()
    kind = _text(data.get("type"), 16) or "?"
    order = data.get("sequence") if data.get("sequence") is not None else data.get("occurred_at")
    return f"{call_id}:{kind}:{_text(order, 40) or '-'}"


class CtiVoice:
    kind: ClassVar[str] = "phone.cti"
    family: ClassVar[str] = "phone"
    credential_fields: ClassVar[tuple[str, ...]] = ("signing_secret",)
    setting_fields: ClassVar[tuple[str, ...]] = ("replay_window_seconds", "webhook_base_url")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    def verify(self, request: WebhookRequest, credentials: Mapping[str, str], settings: Mapping[str, str]) -> None:
        try:
            window = int(settings.get("replay_window_seconds") or DEFAULT_WINDOW_SECONDS)
        except ValueError:
            window = DEFAULT_WINDOW_SECONDS
        check_signature(
            credentials.get("signing_secret", ""),
            request.header(TIMESTAMP_HEADER),
            request.header(SIGNATURE_HEADER),
            request.body,
            now=self.clock(),
            window=window,
        )

    def provider_event_id(self, hook: HookKind, request: WebhookRequest) -> str:
        return event_id(request.body)

    def ack(self, hook: HookKind) -> HookAck:
        return HookAck(body=b'{"ok":true}', content_type="application/json")

    def parse_call_events(
        self, hook: HookKind, body: bytes, *, url: str = "", settings: Mapping[str, str] | None = None, received_at: datetime | None = None
    ) -> list[CallEvent]:
        return [parse_event(body)]

    def parse_inbound(self, body: bytes, *, account: str, raw_ref: str, received_at: datetime) -> list[InboundMessage]:
        raise PayloadError("A CTI link carries call events, not messages.")

    def parse_status(self, body: bytes) -> list[DeliveryUpdate]:
        raise PayloadError("A CTI link carries call events, not delivery statuses.")

    def send(
        self, message: OutboundMessage, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> SendResult:
        raise SendError("The hotline does not send text messages; reply on another channel.", permanent=True)
