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


@dataclass(frozen=True)
class Attachment:
    """An attachment the provider hosts; fetching it is the service's job, under its limits."""

    url: str
    media_type: str | None = None
    filename: str | None = None
    size: int | None = None


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
