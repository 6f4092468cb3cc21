"""A support mailbox: mail comes in by IMAP polling or the SMTP listener, replies go out over SMTP.

No webhooks: the raw mail is the record, keyed by its Message-ID (or the SHA-256 of its bytes).
The HttpTransport of the adapter interface is unused; SMTP is spoken with smtplib here.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
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

IMAP_SECURITY = ("ssl", "starttls", "none")
SMTP_SECURITY = ("starttls", "ssl", "none")
_INT_SETTINGS = ("imap_port", "smtp_port", "max_bytes", "max_attachment_bytes")


@dataclass(frozen=True)
class ImapSettings:
    """Where the poller takes this mailbox's mail from, and what it does with a mail it took."""

    host: str
    port: int
    security: str  # "ssl", "starttls" or "none"
    user: str
    folder: str = "INBOX"
    processed_folder: str = ""  # move taken mail here; empty: flag it \Seen instead


def imap_settings(settings: Mapping[str, str]) -> ImapSettings | None:
    """The IMAP half of a mailbox's settings; None when it is not polled (no imap_host)."""
    host = (settings.get("imap_host") or "").strip()
    if not host:
        return None
    security = (settings.get("imap_security") or "ssl").strip().lower()
    return ImapSettings(
        host=host,
        port=_int(settings.get("imap_port"), 993 if security == "ssl" else 143),
        security=security,
        user=(settings.get("imap_user") or settings.get("address") or "").strip(),
        folder=(settings.get("imap_folder") or "").strip() or "INBOX",
        processed_folder=(settings.get("imap_processed_folder") or "").strip(),
    )


def check_settings(settings: Mapping[str, str]) -> dict[str, list[str]]:
    """What is wrong with a mailbox's settings, by field (empty: nothing); no network is touched."""
    errors: dict[str, list[str]] = {}
    for name in _INT_SETTINGS:
        raw = (settings.get(name) or "").strip()
        if raw and not (raw.isdigit() and 0 < int(raw) <= (65535 if name.endswith("_port") else 2**40)):
            errors[name] = ["Must be a positive whole number" + (" up to 65535." if name.endswith("_port") else ".")]
    if (settings.get("imap_security") or "ssl").strip().lower() not in IMAP_SECURITY:
        errors["imap_security"] = [f"One of {', '.join(IMAP_SECURITY)}."]
    if (settings.get("smtp_security") or "starttls").strip().lower() not in SMTP_SECURITY:
        errors["smtp_security"] = [f"One of {', '.join(SMTP_SECURITY)}."]
    for name in ("imap_host", "smtp_host"):
        host = settings.get(name) or ""
        if host and not _HOST.fullmatch(host.strip()):
            errors[name] = ["A host name or IP address."]
    for name in ("imap_folder", "imap_processed_folder"):
        folder = settings.get(name) or ""
        # Modified UTF-7 (RFC 3501 5.1.3) is not spoken here: ASCII names only, no quotes or controls.
        if folder and (not _FOLDER.fullmatch(folder.strip()) or _FOLDER_FORBIDDEN.search(folder)):
            errors[name] = ["Printable ASCII without quotes, backslashes or wildcards (* %), at most 200 characters."]
    imap = imap_settings(settings)
    if imap is not None:
        if not imap.user:
            errors.setdefault("imap_user", []).append("Required with imap_host (or set address).")
        if imap.processed_folder and imap.processed_folder.upper() == imap.folder.upper():
            errors.setdefault("imap_processed_folder", []).append("Must differ from imap_folder.")
    return errors


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
        "imap_security",  # "ssl" (default, port 993), "starttls" or "none" (port 143)
        "imap_processed_folder",  # move taken mail here; empty: flag it \Seen instead
        "smtp_host",
        "smtp_port",
        "smtp_user",
        "smtp_security",  # "starttls" (default), "ssl" or "none"
        "max_bytes",
        "max_attachment_bytes",
    )

    def check_settings(self, settings: Mapping[str, str]) -> dict[str, list[str]]:
        return check_settings(settings)

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


_HOST = re.compile(r"[A-Za-z0-9._:-]{1,253}|\[[0-9A-Fa-f:.]+\]")
_FOLDER = re.compile(r"[\x20-\x7e]{1,200}")
_FOLDER_FORBIDDEN = re.compile(r'["\\*%]')


def domain_of(settings: Mapping[str, str]) -> str:
    return settings.get("message_id_domain") or settings.get("address", "").rpartition("@")[2] or "localhost"


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw or "")
    except ValueError:
        return default
