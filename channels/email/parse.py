"""Raw RFC 5322 bytes to one ParsedMail, and that to an InboundMessage: pure, bounded, never fooled by labels.

The stdlib email package (compat32 policy, see parse_mail) splits the structure and undoes quoted-printable and
base64; text is decoded by charsets.decode_bytes (supersets, mislabels, fallbacks) rather than by
the declared label alone, and headers by charsets.decode_header_value, so a broken header or an
unknown charset costs replacement characters, never the message. Limits apply before work:
the whole mail by its length, a part by its encoded size before it is decoded, the number of
parts and the nesting depth while walking.
"""

# ruff: noqa: RUF001 - Chinese text uses fullwidth punctuation on purpose
from __future__ import annotations

import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from html import unescape

import filetype

from channels.base import Attachment, InboundMessage, PayloadError, TooLarge
from channels.email.charsets import decode_bytes, decode_header_value
from channels.email.loops import Automation, classify
from channels.sanitize import clean_html, clean_text, single_line


@dataclass(frozen=True)
class MailLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_attachment_bytes: int = 15 * 1024 * 1024
    max_parts: int = 100
    max_depth: int = 8
    max_text_chars: int = 200_000


@dataclass(frozen=True)
class MailPart:
    """An attachment or inline image, its content kept for the service to store."""

    index: int
    filename: str
    declared_type: str
    sniffed_type: str | None
    size: int
    sha256: str
    content_id: str | None
    inline: bool
    content: bytes = field(repr=False)
    oversized: bool = False  # over max_attachment_bytes: listed, content not kept

    @property
    def type_mismatch(self) -> bool:
        return not types_agree(self.declared_type, self.sniffed_type, self.content)


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None  # without angle brackets
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: str  # the address, lower-cased domain
    sender_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None  # sanitised
    parts: tuple[MailPart, ...]
    automation: Automation
    bounced_message_id: str | None = None  # for a bounce: the Message-ID of the mail that bounced
    forwarded: bool = False
    defects: tuple[str, ...] = ()

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message ids this mail answers, the nearest first (In-Reply-To, then References newest first)."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)

    @property
    def cid_map(self) -> dict[str, int]:
        return {p.content_id: p.index for p in self.parts if p.content_id}


_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_TICKET_TAG = re.compile(r"\[#(\d{1,12})\]")
_FORWARD_MARKERS = re.compile(
    r"^(-{2,} ?(forwarded message|original message|转发的邮件|原始邮件|轉寄的郵件) ?-{2,}|begin forwarded message:)", re.I | re.M
)
_SUBJECT_FORWARD = re.compile(r"^\s*(fwd?|转发|轉寄)\s*[:：]", re.I)
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_ZIP_FAMILY = {"application/zip", "application/x-zip-compressed"}
_OFFICE_ZIP = re.compile(r"^application/(vnd\.openxmlformats|vnd\.oasis|vnd\.ms-|epub|java-archive)")
_SNIFF_REQUIRED = re.compile(r"^(image/(png|jpeg|gif|webp|bmp|tiff)|application/pdf|application/zip|audio/|video/)")
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
_TEXTUAL = re.compile(r"^(text/|application/(json|xml|csv|octet-stream))")


def message_ids(raw: str | None) -> tuple[str, ...]:
    """The ids in a Message-ID, In-Reply-To or References header, without brackets."""
    if not raw:
        return ()
    found = _MSGID.findall(raw)
    if not found and raw.strip() and " " not in raw.strip():
        found = [raw.strip().strip("<>")]  # a bare id without brackets, as some clients send
    return tuple(single_line(m, 250) for m in found)


def ticket_number_in(subject: str) -> int | None:
    match = _TICKET_TAG.search(subject or "")
    return int(match.group(1)) if match else None


def types_agree(declared: str, sniffed: str | None, content: bytes) -> bool:
    """Whether the content is what its Content-Type says (an executable called image/png is not)."""
    declared = _ALIASES.get(declared, declared)
    if sniffed is None:
        # No signature found: fine for text and unknown binary types, suspicious for types that always have one.
        return not _SNIFF_REQUIRED.match(declared)
    sniffed = _ALIASES.get(sniffed, sniffed)
    if sniffed == declared:
        return True
    if sniffed in _ZIP_FAMILY and (_OFFICE_ZIP.match(declared) or declared in _ZIP_FAMILY):
        return True
    if declared == "application/octet-stream":
        return not sniffed.startswith("application/x-executable") and sniffed != "application/x-msdownload"
    return False


def sniff(content: bytes) -> str | None:
    if not content:
        return None
    guessed = filetype.guess_mime(content[:8192])
    return str(guessed) if guessed else None


class _Walk:
    def __init__(self, limits: MailLimits) -> None:
        self.limits = limits
        self.text: list[str] = []
        self.html: list[str] = []
        self.parts: list[MailPart] = []
        self.defects: list[str] = []
        self.bounced_id: str | None = None
        self.forwarded = False
        self.attached_ids: list[str] = []  # Message-IDs of attached mails (forwards, a DSN's original)
        self.count = 0


def _header(msg: Message, name: str) -> str | None:
    """A header's decoded value; broken headers decode as far as they can instead of raising."""
    for key, value in msg.raw_items():
        if key.lower() == name:
            return decode_header_value(str(value))
    return None


def _content_type(msg: Message) -> str:
    try:
        return msg.get_content_type()
    except Exception:
        return "text/plain"


def _param(msg: Message, name: str) -> str | None:
    try:
        value = msg.get_param(name)
    except Exception:
        return None
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return str(value) if value is not None else None


def _filename(msg: Message) -> str | None:
    try:
        name = msg.get_filename()
    except Exception:
        name = None
    if name is None:
        return None
    return single_line(decode_header_value(str(name)), 200).replace("/", "_").replace("\\", "_") or None


def _encoded_size(msg: Message) -> int:
    payload = msg.get_payload()
    size = len(payload) if isinstance(payload, (str, bytes)) else 0
    cte = str(msg.get("content-transfer-encoding", "")).lower()
    return size * 3 // 4 if "base64" in cte else size


def _decoded(msg: Message) -> bytes:
    try:
        payload = msg.get_payload(decode=True)
    except Exception:
        payload = None
    return payload if isinstance(payload, bytes) else b""


def _walk(msg: Message, state: _Walk, depth: int) -> None:
    state.count += 1
    if state.count > state.limits.max_parts:
        if "too many parts" not in state.defects:
            state.defects.append("too many parts")
        return
    ctype = _content_type(msg)
    if msg.is_multipart():
        if depth >= state.limits.max_depth:
            state.defects.append("nested too deep")
            return
        children = msg.get_payload()
        if ctype == "message/rfc822":
            state.forwarded = True
            inner = children[0] if isinstance(children, list) and children else None
            if isinstance(inner, Message):
                state.attached_ids.extend(message_ids(_header(inner, "message-id"))[:1])
        for child in children if isinstance(children, list) else []:
            if isinstance(child, Message):
                _walk(child, state, depth + 1)
        return
    disposition = (msg.get_content_disposition() or "").lower()
    filename = _filename(msg)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not (filename and disposition == "inline"):
        if _encoded_size(msg) > state.limits.max_text_chars * 4:
            state.defects.append(f"{ctype} part over the size limit dropped")
            return
        text, _codec = decode_bytes(_decoded(msg), _param(msg, "charset"))
        (state.text if ctype == "text/plain" else state.html).append(text)
        return
    if ctype == "text/rfc822-headers" and state.bounced_id is None:
        ids = message_ids(_headers_field(_decoded(msg), "message-id"))
        state.bounced_id = ids[0] if ids else None
        return
    if ctype == "message/delivery-status":
        return
    _attachment(msg, state, ctype, disposition, filename)


def _headers_field(block: bytes, name: str) -> str | None:
    text = decode_bytes(block)[0]
    match = re.search(rf"^{re.escape(name)}:[ \t]*(.*(?:\r?\n[ \t].*)*)", text, re.I | re.M)
    return match.group(1) if match else None


def _attachment(msg: Message, state: _Walk, ctype: str, disposition: str, filename: str | None) -> None:
    index = len(state.parts)
    content_id = (str(msg.get("content-id", "")).strip().strip("<>") or None) if msg.get("content-id") else None
    if content_id:
        content_id = single_line(content_id, 250)
    name = filename or (f"part-{index}" + _extension(ctype))
    if _encoded_size(msg) > state.limits.max_attachment_bytes:
        state.parts.append(
            MailPart(index, name, ctype, None, _encoded_size(msg), "", content_id, disposition == "inline", b"", oversized=True)
        )
        state.defects.append(f"attachment {name!r} over the size limit: not kept")
        return
    content = _decoded(msg)
    state.parts.append(
        MailPart(
            index=index,
            filename=name,
            declared_type=ctype,
            sniffed_type=sniff(content),
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content_id=content_id,
            inline=disposition == "inline" or (bool(content_id) and disposition != "attachment"),
            content=content,
        )
    )


def _extension(ctype: str) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf", "message/rfc822": ".eml"}.get(
        ctype, ".bin"
    )


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    values = [decode_header_value(str(v)) for k, v in msg.raw_items() if k.lower() == name]
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:
        pairs = []
    good = [(single_line(n, 200), _normal_address(a)) for n, a in pairs if _PLAIN_ADDRESS.fullmatch(a)]
    if good or not values:
        return good
    # A header getaddresses cannot split (unbalanced quotes, broken encoded words): take the addresses it holds.
    return [("", _normal_address(a)) for a in _PLAIN_ADDRESS.findall(" ".join(values))]


def _normal_address(address: str) -> str:
    local, _, domain = single_line(address, 320).strip("<>").rpartition("@")
    return f"{local}@{domain.lower()}"


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def html_to_text(html: str) -> str:
    no_tags = re.sub(r"<(br|/p|/div|/tr|/li|/h\d)[^>]*>", "\n", html, flags=re.I)
    no_tags = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", no_tags, flags=re.I | re.S)
    return re.sub(r"\n{3,}", "\n\n", unescape(re.sub(r"<[^>]+>", "", no_tags))).strip()


def parse_mail(raw: bytes, limits: MailLimits | None = None) -> ParsedMail:
    """One raw mail, parsed; TooLarge over max_bytes (checked first), PayloadError when it is not mail at all."""
    limits = limits or MailLimits()
    if len(raw) > limits.max_bytes:
        raise TooLarge(f"The mail is {len(raw)} bytes, over the limit of {limits.max_bytes}.")
    if not raw.strip():
        raise PayloadError("The mail is empty.")
    # compat32 rather than policy.default: headers stay raw strings, decoded by decode_header_value with the
    # charset fallbacks; policy.default's header objects cost two thirds of the parse time and raise on
    # broken headers that we want decoded as far as they go.
    msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    if not msg.keys():
        raise PayloadError("The data has no mail headers.")
    state = _Walk(limits)
    _walk(msg, state, 0)
    senders = _addresses(msg, "from") or _addresses(msg, "sender") or _addresses(msg, "return-path")
    sender_name, sender = senders[0] if senders else ("", "")
    subject = single_line(_header(msg, "subject") or "", 300)
    automation = classify(lambda name: _header(msg, name), sender, _content_type(msg), _param(msg, "report-type"))
    html = clean_html(state.html[0]) if state.html else None
    text = state.text[0] if state.text else (html_to_text(state.html[0]) if state.html else "")
    text = clean_text(text, limits.max_text_chars)
    forwarded = state.forwarded or bool(_SUBJECT_FORWARD.match(subject)) or bool(_FORWARD_MARKERS.search(text))
    bounced = state.bounced_id
    if automation is Automation.BOUNCE and bounced is None:
        bounced = state.attached_ids[0] if state.attached_ids else _bounced_id_from_parts(state.parts)
    ids = message_ids(_header(msg, "message-id"))
    return ParsedMail(
        message_id=ids[0] if ids else None,
        in_reply_to=message_ids(_header(msg, "in-reply-to")),
        references=message_ids(_header(msg, "references")),
        subject=subject,
        sender=sender,
        sender_name=sender_name or None,
        to=tuple(a for _, a in _addresses(msg, "to")),
        cc=tuple(a for _, a in _addresses(msg, "cc")),
        date=_date(_header(msg, "date")),
        text=text,
        html=html,
        parts=tuple(state.parts),
        automation=automation,
        bounced_message_id=bounced,
        forwarded=forwarded,
        defects=tuple(state.defects) + tuple(type(d).__name__ for d in getattr(msg, "defects", [])),
    )


def _bounced_id_from_parts(parts: tuple[MailPart, ...] | list[MailPart]) -> str | None:
    """A DSN's returned original, attached as message/rfc822."""
    for part in parts:
        if part.declared_type == "message/rfc822":
            ids = message_ids(_headers_field(part.content, "message-id"))
            if ids:
                return ids[0]
    return None


def provider_id(raw: bytes) -> str:
    """The durable inbox key of a raw mail: its Message-ID, or the SHA-256 of the bytes without one."""
    head = raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    ids = message_ids(_headers_field(head, "message-id"))
    return ids[0][:160] if ids else "sha256:" + hashlib.sha256(raw).hexdigest()


def to_inbound(mail: ParsedMail, *, account: str, raw_ref: str, received_at: datetime, fallback_id: str) -> InboundMessage:
    if not mail.sender:
        raise PayloadError("The mail has no sender address.")
    extra = {
        "message_id": mail.message_id or fallback_id,
        "thread_ids": " ".join(f"<{m}>" for m in mail.thread_ids[:50]),
        "automation": mail.automation.value,
    }
    if mail.bounced_message_id:
        extra["bounced_message_id"] = mail.bounced_message_id
    if mail.forwarded:
        extra["forwarded"] = "yes"
    if mail.defects:
        extra["defects"] = single_line("; ".join(mail.defects), 500)
    number = ticket_number_in(mail.subject)
    if number is not None:
        extra["ticket_number"] = str(number)
    return InboundMessage(
        channel="email",
        account=account,
        provider_message_id=mail.message_id or fallback_id,
        sender=mail.sender,
        sender_kind="email",
        sender_name=mail.sender_name,
        recipient=mail.to[0] if mail.to else None,
        conversation_key=f"{account}:{mail.sender}",
        subject=mail.subject or "(no subject)",
        text=mail.text,
        html=mail.html,
        received_at=received_at.astimezone(UTC),
        raw_ref=raw_ref,
        attachments=tuple(
            Attachment(
                url=f"{raw_ref}#part={p.index}",
                media_type=p.declared_type,  # the service sniffs the content and compares (service_hub.inbound.media_intake)
                filename=p.filename,
                size=p.size,
                content=None if p.oversized else p.content,
                content_id=p.content_id,
                inline=p.inline,
                oversized=p.oversized,
            )
            for p in mail.parts
        ),
        extra=extra,
    )
