"""A support mailbox: mail comes in by IMAP polling or the SMTP listener, replies go out over SMTP.

No webhooks: the raw mail is the record, keyed by its Message-ID (or the SHA-256 of its bytes).
The HttpTransport of the adapter interface is unused; SMTP is spoken with smtplib here.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from channels.base import (
    DeliveryState,
    DeliveryUpdate,
    HookAck,
    HookKind,
    HttpTransport,
    InboundMessage,
    OutboundMessage,
    PayloadError,
    SendError,
    SendResult,
    SignatureError,
    WebhookRequest,
)
from channels.email.compose import HeaderInjection, OutgoingMail, compose
from channels.email.parse import MailLimits, parse_mail, provider_id, to_inbound


def limits_from(settings: Mapping[str, str]) -> MailLimits:
    defaults = MailLimits()
    return MailLimits(
        max_bytes=_int(settings.get("max_bytes"), defaults.max_bytes),
        max_attachment_bytes=_int(settings.get("max_attachment_bytes"), defaults.max_attachment_bytes),
    )


class EmailMailbox:
    kind: ClassVar[str] = "email.mailbox"
    family: ClassVar[str] = "email"
    credential_fields: ClassVar[tuple[str, ...]] = ("imap_password", "smtp_password")
    setting_fields: ClassVar[tuple[str, ...]] = (
        "address",  # the support address replies come from
        "display_name",
        "message_id_domain",
        "imap_host",
        "imap_port",
        "imap_user",
        "imap_folder",
        "imap_ssl",  # "yes" (default) or "no"
        "imap_processed_folder",  # move taken mail here; empty: flag it \Seen instead
        "smtp_host",
        "smtp_port",
        "smtp_user",
        "smtp_security",  # "starttls" (default), "ssl" or "none"
        "max_bytes",
        "max_attachment_bytes",
    )

    def verify(self, request: WebhookRequest, credentials: Mapping[str, str], settings: Mapping[str, str]) -> None:
        raise SignatureError("Mail arrives by IMAP or SMTP, never by webhook.")

    def provider_event_id(self, hook: HookKind, request: WebhookRequest) -> str:
        return provider_id(request.body)

    def ack(self, hook: HookKind) -> HookAck:
        return HookAck(status=204)

    def parse_inbound(self, body: bytes, *, account: str, raw_ref: str, received_at: datetime) -> list[InboundMessage]:
        mail = parse_mail(body)
        return [to_inbound(mail, account=account, raw_ref=raw_ref, received_at=received_at, fallback_id=provider_id(body))]

    def parse_status(self, body: bytes) -> list[DeliveryUpdate]:
        raise PayloadError("Mail delivery reports arrive as bounces, not status records.")

    def send(
        self, message: OutboundMessage, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> SendResult:
        """A message without a thread (an admin's test mail)."""
        mail = OutgoingMail(
            from_address=settings.get("address", ""),
            from_name=settings.get("display_name") or None,
            to_address=message.to,
            subject=message.subject or "Test message",
            text=message.text,
            html=message.html,
            domain=domain_of(settings),
        )
        return self.send_mail(mail, credentials, settings)

    def send_mail(self, mail: OutgoingMail, credentials: Mapping[str, str], settings: Mapping[str, str]) -> SendResult:
        try:
            composed = compose(mail)
        except HeaderInjection as exc:
            raise SendError(str(exc), permanent=True, code="header-injection") from None
        host = settings.get("smtp_host", "")
        if not host:
            raise SendError("The mailbox has no smtp_host.", permanent=True)
        security = (settings.get("smtp_security") or "starttls").lower()
        port = _int(settings.get("smtp_port"), 465 if security == "ssl" else 587)
        try:
            client = (
                smtplib.SMTP_SSL(host, port, timeout=30, context=ssl.create_default_context())
                if security == "ssl"
                else smtplib.SMTP(host, port, timeout=30)
            )
            with client:
                if security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if settings.get("smtp_user"):
                    client.login(settings["smtp_user"], credentials.get("smtp_password", ""))
                refused = client.send_message(composed)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"The server refused the recipient: {exc.recipients}", permanent=True, code="recipient-refused") from None
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500, code=str(exc.smtp_code)) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"The SMTP server could not be reached: {exc}", permanent=False) from None
        if refused:
            raise SendError(f"The server refused: {sorted(refused)}", permanent=True, code="recipient-refused")
        message_id = str(composed["Message-ID"]).strip().strip("<>")
        return SendResult(provider_message_id=message_id, state=DeliveryState.SENT, raw_status="250")


def domain_of(settings: Mapping[str, str]) -> str:
    return settings.get("message_id_domain") or settings.get("address", "").rpartition("@")[2] or "localhost"


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw or "")
    except ValueError:
        return default
