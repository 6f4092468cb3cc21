"""Inbound media into ticket attachments: fetched from the provider (or taken from the mail), limited, sniffed, stored.

When: ``collect`` runs inside the processing attempt but before it writes anything, so the bytes are
in content-addressed storage (tickets.attachments.store_stream: the same bytes are the same file)
before the transaction that adds the message and its attachment rows. A retried attempt fetches
again and writes the rows once, because the rows are written only by the attempt that commits.

Failures (the choice for issue 3): a transient one (provider 5xx or 429, timeout, connection
refused) on any but the record's MEDIA_ATTEMPTS-th attempt raises MediaUnavailable, the attempt is
rolled back and the record is retried by its retry policy with back-off; on that last media attempt
the message is stored anyway with a FAILED placeholder saying why. A permanent failure (404, a
refused URL, no credentials) is a placeholder at once. Oversized media is a TOO_LARGE placeholder,
with the message kept. So media can delay a message by the first back-off steps (about 30 s with
the defaults), never lose it, and never dead-letter it.

Safety: at most max_attachment_bytes are read (the provider's announced size refuses earlier);
the content is sniffed (filetype) and compared with the declared type: a mismatch is stored as the
sniffed type or application/octet-stream with a note, never as the declared type; filenames lose
paths, control and bidi characters and are capped. Downloads are served as attachments with
nosniff (tickets.api).
"""

from __future__ import annotations

import io
import mimetypes
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app

from channels.base import Attachment, ChannelAdapter, HttpStream, HttpTransport, InboundMessage, MediaDownload, MediaError, MediaSource
from channels.email.parse import sniff, types_agree
from channels.http_transport import RequestsTransport
from service_hub.inbound import credential_vault
from service_hub.inbound.models import ChannelAccount, InboundRecord
from service_hub.tickets import operations as ticket_operations
from service_hub.tickets.attachments import store_stream
from service_hub.tickets.models import AttachmentStatus, Message

# The attempt of a record on which a media fetch that keeps failing gives way to a placeholder.
MEDIA_ATTEMPTS = 3
# Of the processing lease (sweep_after_seconds): what all of one record's downloads may take, so
# the sweeper does not start a second attempt while the first is still downloading.
LEASE_SHARE = 0.5
SNIFF_BYTES = 8192
MAX_FILENAME = 200
OCTET_STREAM = "application/octet-stream"


class MediaUnavailable(Exception):
    """A transient media failure before the last media attempt: roll back, the record is retried."""


class _OverLimit(Exception):
    pass


@dataclass(frozen=True)
class ReceivedFile:
    """One attachment settled: in storage (STORED) or a placeholder with its reason."""

    filename: str
    media_type: str
    size: int
    sha256: str
    status: AttachmentStatus
    note: str | None = None
    content_id: str | None = None

    def row(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "status": self.status,
            "note": self.note,
        }


def transport() -> HttpTransport:
    """What media is fetched through; tests may replace it."""
    return RequestsTransport()


def collect(inbound: InboundMessage, adapter: ChannelAdapter, account: ChannelAccount, record: InboundRecord) -> list[ReceivedFile]:
    """Every attachment of one inbound message, stored or a placeholder; MediaUnavailable to retry later."""
    if not inbound.attachments:
        return []
    config = current_app.config["SERVICE_HUB"]
    max_bytes: int = config.max_attachment_bytes
    last_try = record.attempts >= min(MEDIA_ATTEMPTS, config.channels.max_attempts)
    deadline = time.monotonic() + config.channels.sweep_after_seconds * LEASE_SHARE
    fetch = _fetcher(adapter, account)
    received = []
    for index, attachment in enumerate(inbound.attachments):
        try:
            received.append(_receive(attachment, index, fetch, max_bytes, deadline))
        except MediaError as exc:
            if not exc.permanent and not last_try:
                raise MediaUnavailable(f"attachment {index + 1}: {exc}") from None
            reason = str(exc) if exc.permanent else f"{exc} (gave up after {record.attempts} attempts)"
            received.append(_placeholder(attachment, index, AttachmentStatus.FAILED, f"not received: {reason}"))
    return received


def attach(message: Message, received: list[ReceivedFile]) -> None:
    """The attachment rows on their message; inline mail images shown from our storage (cid: rewritten)."""
    if not received:
        return
    rows = ticket_operations.add_inbound_attachments(message, [r.row() for r in received])
    html = message.body_html
    for row, file in zip(rows, received, strict=True):
        if html and file.content_id and file.status == AttachmentStatus.STORED:
            url = f"/api/v1/attachments/{row.id}/content"
            html = html.replace(f'"cid:{file.content_id}"', f'"{url}"').replace(f"'cid:{file.content_id}'", f"'{url}'")
    message.body_html = html


def _fetcher(adapter: ChannelAdapter, account: ChannelAccount) -> Callable[[Attachment], MediaDownload]:
    credentials: dict[str, str] | None = None

    def fetch(attachment: Attachment) -> MediaDownload:
        nonlocal credentials
        if not isinstance(adapter, MediaSource):
            raise MediaError(f"{account.kind} cannot fetch media.", permanent=True)
        if credentials is None:
            credentials = credential_vault.decrypt(account.credentials_encrypted)  # CredentialError: dead-letter, as elsewhere
        settings: Mapping[str, str] = dict(account.settings or {})
        return adapter.fetch_media(attachment, credentials, settings, transport())

    return fetch


def _receive(
    attachment: Attachment, index: int, fetch: Callable[[Attachment], MediaDownload], max_bytes: int, deadline: float
) -> ReceivedFile:
    declared = _media_type(attachment.media_type)
    if attachment.oversized or (attachment.content is None and (attachment.size or 0) > max_bytes):
        return _too_large(attachment, index, attachment.size, max_bytes)
    download: MediaDownload | None = None
    if attachment.content is not None:
        source: BinaryIO | HttpStream = io.BytesIO(attachment.content)
    else:
        download = fetch(attachment)
        declared = declared or download.media_type
        if download.length is not None and download.length > max_bytes:
            download.close()
            return _too_large(attachment, index, download.length, max_bytes)
        source = download.stream
    reader = _LimitedReader(source, max_bytes, deadline)
    try:
        sha, size = store_stream(reader, max_bytes)  # type: ignore[arg-type]  # it only reads
    except _OverLimit:
        return _too_large(attachment, index, None, max_bytes)
    except OSError as exc:
        raise MediaError(f"the download broke off: {exc}", permanent=False) from None
    finally:
        if download is not None:
            download.close()
    media_type, note = _verdict(declared or OCTET_STREAM, sniff(reader.head))
    return ReceivedFile(
        filename=safe_filename(attachment.filename, media_type, index),
        media_type=media_type[:127],
        size=size,
        sha256=sha,
        status=AttachmentStatus.STORED,
        note=note,
        content_id=attachment.content_id,
    )


def _verdict(declared: str, sniffed: str | None) -> tuple[str, str | None]:
    """The type we store and serve, and a note when the content is not what was declared."""
    if types_agree(declared, sniffed, b""):
        # A generic declaration tells less than the content does.
        return (sniffed if declared == OCTET_STREAM and sniffed else declared), None
    stored = sniffed or OCTET_STREAM
    return stored, f"declared {declared}, but the content is {sniffed or 'not of that type'}: stored as {stored}"


def _media_type(raw: str | None) -> str | None:
    """A declared MIME type, lower-cased without parameters; Messenger's bare "image" or "file" is none."""
    value = (raw or "").split(";", 1)[0].strip().lower()
    return value if "/" in value and len(value) <= 127 else None


def _too_large(attachment: Attachment, index: int, size: int | None, max_bytes: int) -> ReceivedFile:
    told = f" ({size} bytes)" if size else ""
    return _placeholder(attachment, index, AttachmentStatus.TOO_LARGE, f"not received: larger than the limit of {max_bytes} bytes{told}")


def _placeholder(attachment: Attachment, index: int, status: AttachmentStatus, note: str) -> ReceivedFile:
    sha, _ = store_stream(io.BytesIO(b""), 1)  # the empty file: a placeholder downloads as nothing, never as an error
    media_type = _media_type(attachment.media_type) or OCTET_STREAM
    return ReceivedFile(
        filename=safe_filename(attachment.filename, media_type, index),
        media_type=media_type,
        size=0,
        sha256=sha,
        status=status,
        note=note[:500],
        content_id=attachment.content_id,
    )


def safe_filename(raw: str | None, media_type: str, index: int) -> str:
    """The sender's name for a file, made harmless: no directories, no control, format (bidi) or
    separator characters, no leading dots, at most MAX_FILENAME characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(ch)[0] == "Z" else ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).lstrip(".").strip()
    if not name:
        name = f"attachment-{index + 1}{mimetypes.guess_extension(media_type) or '.bin'}"
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: MAX_FILENAME - len(ext) - 1]}.{ext}" if dot and stem and len(ext) <= 16 else name[:MAX_FILENAME]
    return name


class _LimitedReader:
    """Reads through to the source, stops one byte past the limit, keeps the head for sniffing, and
    gives up at the deadline (a provider trickling bytes must not hold the attempt past its lease)."""

    def __init__(self, source: BinaryIO | HttpStream, max_bytes: int, deadline: float) -> None:
        self._source = source
        self._max = max_bytes
        self._deadline = deadline
        self.total = 0
        self.head = b""

    def read(self, size: int = -1) -> bytes:
        if time.monotonic() > self._deadline:
            raise OSError("the download took longer than the attempt may")
        room = self._max + 1 - self.total
        data = self._source.read(room if size < 0 else min(size, room))
        self.total += len(data)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]
        if self.total > self._max:
            raise _OverLimit()
        return data
