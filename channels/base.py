"""The one shape every channel family speaks: the adapter interface, its value objects and errors.

An adapter is pure: it gets a webhook as a WebhookRequest (bytes and headers, no framework), the
account's credentials and settings as plain mappings, and an HttpTransport to send through. The
service side stores, threads and retries; adapters only translate.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable


class ChannelError(Exception):
    """Base of the errors an adapter raises; each maps to one HTTP answer or one record outcome."""


class SignatureError(ChannelError):
    """The request is not from the provider: missing or wrong signature. Answer 403, store nothing."""


class ReplayError(ChannelError):
    """Signed, but outside the provider's time window or a reused nonce. Answer 403, store nothing."""


class PayloadError(ChannelError):
    """The payload cannot be understood. At the edge: 400. In processing: permanent, dead-letter at once."""


class TooLarge(ChannelError):
    """The body or one of its parts is over a configured limit. Answer 413 before any other work."""


class OptedOut(ChannelError):
    """The recipient asked not to be messaged on this channel (STOP, 退订); nothing is sent."""


class OutsideWindow(ChannelError):
    """The provider refuses a free-form reply this late (e.g. a messaging session window)."""


class SendError(ChannelError):
    """The provider refused or could not be reached. ``permanent`` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class HookKind(enum.StrEnum):
    """What a stored raw record is; one adapter parses each kind its own way."""

    MESSAGE = "message"
    STATUS = "status"
    CALL_EVENT = "call_event"


class DeliveryState(enum.StrEnum):
    """Provider delivery states, reduced to the ones a desk acts on."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True)
class WebhookRequest:
    """A webhook as it arrived: the public URL the provider called (what it signed), the raw body."""

    url: str
    method: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str = ""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


class MediaError(ChannelError):
    """Media could not be fetched from the provider. ``permanent``: gone or refused, retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Attachment:
    """An attachment the provider hosts (or, for mail, carries); storing it is the service's job, under its limits."""

    url: str  # where the provider hosts it; "" when it is fetched by ``media_id`` only
    media_type: str | None = None  # as the provider declares it: not trusted
    filename: str | None = None  # as the sender named it: not trusted
    size: int | None = None
    # The provider's id of the media when its API fetches by id (WhatsApp media id, WeChat MediaId).
    media_id: str | None = None
    # Mail parts arrive inside the message: their bytes ride along and nothing is fetched.
    content: bytes | None = field(default=None, repr=False, compare=False)
    content_id: str | None = None  # an inline mail part's Content-ID, referenced as cid: in the HTML
    inline: bool = False
    oversized: bool = False  # listed, but over the parser's limit: its bytes were not kept


@dataclass(frozen=True)
class InboundMessage:
    """One customer contact, normalised: after this no code cares which channel it came from."""

    channel: str  # the family: "sms", "email", "phone", "wechat", ...
    account: str  # the channel account's slug
    provider_message_id: str
    sender: str  # the raw sender identity as the provider gave it (a phone, an address, an openid)
    sender_kind: str  # the identity kind: "phone", "email", "wechat", ...
    conversation_key: str  # what threads contacts into one ticket (sender + account for SMS)
    text: str
    received_at: datetime
    raw_ref: str  # the stored raw record this came from ("inbound:<id>")
    recipient: str | None = None
    sender_name: str | None = None
    subject: str | None = None
    html: str | None = None  # sanitised (channels.sanitize) or None
    attachments: tuple[Attachment, ...] = ()
    segments: int = 1
    # Opt-out or opt-in keyword recognised in the text ("stop" / "start"), for channels that have them.
    consent: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    """What we send: to whom, from which account, the text; the key makes a resend recognisable."""

    to: str
    text: str
    idempotency_key: str
    html: str | None = None
    subject: str | None = None
    status_callback_url: str | None = None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    state: DeliveryState
    raw_status: str | None = None


@dataclass(frozen=True)
class DeliveryUpdate:
    """A delivery-status callback, normalised; ``dedupe_key`` is unique per provider event."""

    provider_message_id: str
    state: DeliveryState
    raw_status: str
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class HttpTransport(Protocol):
    """How adapters reach providers; the service passes a real client, tests a recording one."""

    def post_form(
        self, url: str, fields: Mapping[str, str], *, auth: tuple[str, str] | None, headers: Mapping[str, str], timeout: float
    ) -> HttpResponse: ...


class HttpStream(Protocol):
    """A response whose body is read as it arrives (media): the reader decides when to stop."""

    status: int
    headers: Mapping[str, str]

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; b"" at the end. OSError when the connection fails or times out."""

    def close(self) -> None: ...


@runtime_checkable
class MediaTransport(Protocol):
    """A transport that can GET a body as a stream (channels.http_transport.RequestsTransport can)."""

    def open_get(self, url: str, *, auth: tuple[str, str] | None, headers: Mapping[str, str], timeout: float) -> HttpStream: ...


@dataclass
class MediaDownload:
    """An attachment's bytes on their way in: the service reads ``stream`` under its limits, then closes it."""

    stream: HttpStream
    media_type: str | None = None  # the Content-Type the provider answered with (parameters dropped)
    length: int | None = None  # the size the provider announced (Content-Length, Graph's file_size), if any

    def close(self) -> None:
        self.stream.close()


def media_transport(transport: HttpTransport) -> MediaTransport:
    if not isinstance(transport, MediaTransport):
        raise MediaError("The transport cannot download media (it has no open_get).", permanent=True)
    return transport


def open_media(
    transport: HttpTransport,
    url: str,
    *,
    auth: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 20.0,
) -> MediaDownload:
    """GET ``url`` as a stream; MediaError unless the answer is 200 (5xx, 429 and network errors are transient)."""
    if not url.startswith(("https://", "http://")):
        raise MediaError("The media URL is not http(s).", permanent=True)
    try:
        stream = media_transport(transport).open_get(url, auth=auth, headers=headers or {}, timeout=timeout)
    except OSError as exc:
        raise MediaError(f"The media could not be reached: {exc}", permanent=False) from None
    if stream.status != 200:
        stream.close()
        raise MediaError(f"The media host answered {stream.status}.", permanent=not transient_status(stream.status))
    content_type = _header(stream.headers, "content-type")
    length = _header(stream.headers, "content-length")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return MediaDownload(stream=stream, media_type=media_type or None, length=int(length) if length and length.isdigit() else None)


def transient_status(status: int) -> bool:
    """Whether an HTTP answer may change on a retry: timeouts, throttling, server errors (501 says "never")."""
    return status in (408, 429) or (status >= 500 and status != 501)


def read_small(download: MediaDownload, limit: int = 64 * 1024) -> bytes:
    """A metadata answer (JSON), read whole up to ``limit`` bytes and closed."""
    try:
        return download.stream.read(limit)
    except OSError as exc:
        raise MediaError(f"The media host stopped answering: {exc}", permanent=False) from None
    finally:
        download.close()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


@runtime_checkable
class MediaSource(Protocol):
    """An adapter whose provider hosts inbound media: it knows how to fetch it with the account's credentials."""

    def fetch_media(
        self, attachment: Attachment, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> MediaDownload:
        """Open the attachment's bytes as a stream; MediaError (permanent or not) when the provider does not give them."""


@dataclass(frozen=True)
class HookAck:
    """What to answer the provider once the raw record is committed."""

    body: bytes = b""
    content_type: str = "text/plain"
    status: int = 200


@runtime_checkable
class ChannelAdapter(Protocol):
    """One class per provider of a channel family, registered under ``kind`` (see registry)."""

    kind: ClassVar[str]  # "sms.twilio", later "email.imap", "social.wechat", ...
    family: ClassVar[str]  # "sms", "email", "phone", "social"
    credential_fields: ClassVar[tuple[str, ...]]  # secrets: stored encrypted, never returned
    setting_fields: ClassVar[tuple[str, ...]]  # plain settings an admin may read back

    def verify(self, request: WebhookRequest, credentials: Mapping[str, str], settings: Mapping[str, str]) -> None:
        """Raise SignatureError or ReplayError unless the request is genuinely from the provider."""

    def provider_event_id(self, hook: HookKind, request: WebhookRequest) -> str:
        """The provider's id of this delivery, unique per account (the durable inbox's key)."""

    def parse_inbound(self, body: bytes, *, account: str, raw_ref: str, received_at: datetime) -> list[InboundMessage]:
        """Turn a stored raw message record into messages; PayloadError if it cannot be understood."""

    def parse_status(self, body: bytes) -> list[DeliveryUpdate]:
        """Turn a stored raw status record into delivery updates; PayloadError if it cannot."""

    def send(
        self, message: OutboundMessage, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> SendResult:
        """Send one message; SendError (permanent or not) when the provider does not take it."""

    def ack(self, hook: HookKind) -> HookAck:
        """The answer the provider expects after a stored (or duplicate) webhook."""
