"""The IMAP poller: new mail by UID from each mailbox's folder into the durable inbox, then flagged or moved.

One poll of one folder: SELECT it; if its UIDVALIDITY is not the one stored in imap_folder_states
the stored UIDs mean nothing any more, so start again from UID 1 (the inbox deduplicates what
was taken before). UID SEARCH past the last UID taken, at most IMAP_MAX_PER_POLL of them; for
each, in UID order: fetch the raw bytes with BODY.PEEK[] (which sets no flag), store them like the
SMTP listener does (committed; a duplicate is a no-op), enqueue processing, and only then flag it
\\Seen or move it to the processed folder, then advance the stored last UID. A crash anywhere in
between leaves the mail to be taken again next poll, where the inbox finds it a duplicate.

Mail larger than the account's max_bytes is not fetched: it stays unread on the server, the poll
passes over it and says so in the folder state's last_error and the log.

One account's failure is logged and written to its folder state; the other accounts are polled.
On PostgreSQL a session advisory lock per account keeps two pollers off the same folder.
"""

from __future__ import annotations

import imaplib
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from channels.base import HookKind
from channels.email.mailbox import ImapSettings, imap_settings, limits_from
from channels.email.parse import provider_id
from config.settings import ChannelSettings
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound import credential_vault
from service_hub.inbound.email_models import ImapFolderState
from service_hub.inbound.intake import store_raw
from service_hub.inbound.models import ChannelAccount

log = logging.getLogger(__name__)

# pg_try_advisory_lock(class, account id): "IMAP" as a 32-bit class key, no other code uses it.
IMAP_LOCK_CLASS = 0x494D4150


class PollError(RuntimeError):
    """The server said no, or the account cannot be polled as configured."""


@dataclass
class PollResult:
    account_id: int
    taken: int = 0  # new records stored
    duplicates: int = 0  # fetched, already in the inbox (a crash or a re-poll): only flagged now
    oversized: list[int] = field(default_factory=list)  # UIDs left on the server
    locked: bool = False  # another poller holds this account
    error: str | None = None


def _settings() -> ChannelSettings:
    settings: ChannelSettings = current_app.config["SERVICE_HUB"].channels
    return settings


def polled_accounts() -> list[ChannelAccount]:
    query = select(ChannelAccount).where(ChannelAccount.kind == "email.mailbox", ChannelAccount.is_active).order_by(ChannelAccount.id)
    return [a for a in db.session.scalars(query) if imap_settings(a.settings or {}) is not None]


def poll_all() -> dict[str, int]:
    """One poll of every active mailbox with IMAP settings; a failing one does not stop the others."""
    totals = {"accounts": 0, "taken": 0, "duplicates": 0, "failed": 0, "locked": 0}
    for account_id in [a.id for a in polled_accounts()]:
        result = poll_account(account_id)
        totals["accounts"] += 1
        totals["taken"] += result.taken
        totals["duplicates"] += result.duplicates
        totals["failed"] += result.error is not None
        totals["locked"] += result.locked
    return totals


def poll_account(account_id: int) -> PollResult:
    result = PollResult(account_id)
    account = db.session.get(ChannelAccount, account_id)
    imap = imap_settings(account.settings or {}) if account is not None else None
    if account is None or imap is None:
        result.error = "not an IMAP mailbox"
        return result
    with _account_lock(account_id) as held:
        if not held:
            result.locked = True
            log.info("IMAP account %s is being polled by another poller; skipped", account_id)
            return result
        try:
            _poll(account, imap, result)
        except Exception as exc:  # one account's failure must not stop the others
            db.session.rollback()
            result.error = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("IMAP poll of account %s (%s:%s %s) failed: %s", account_id, imap.host, imap.port, imap.folder, result.error)
        _finish(account_id, imap.folder, result)
    return result


def _poll(account: ChannelAccount, imap: ImapSettings, result: PollResult) -> None:
    settings = _settings()
    password = credential_vault.decrypt(account.credentials_encrypted).get("imap_password", "")
    _check_host(imap.host, settings)
    max_bytes = limits_from(account.settings or {}).max_bytes
    client = _connect(imap, settings.imap_timeout_seconds)
    try:
        _ok(client.login(imap.user, password), "LOGIN")
        capabilities = _capabilities(client)
        _ok(client.select(_quoted(imap.folder)), f"SELECT {imap.folder}")
        uidvalidity = _uidvalidity(client)
        state = _state(account.id, imap.folder)
        if state.uidvalidity != uidvalidity:
            if state.uidvalidity:
                log.warning(
                    "IMAP account %s folder %s: UIDVALIDITY %s -> %s, taking it again from the start",
                    account.id,
                    imap.folder,
                    state.uidvalidity,
                    uidvalidity,
                )
            state.uidvalidity, state.last_uid = uidvalidity, 0
            db.session.commit()
        last_uid = state.last_uid
        # "UID n:*" always matches the highest UID, even below n (RFC 3501 6.4.8): filter.
        typ, data = client.uid("SEARCH", f"UID {last_uid + 1}:*")
        _ok((typ, data), "UID SEARCH")
        uids = sorted(uid for uid in (int(x) for x in (data[0] or b"").split()) if uid > last_uid)[: settings.imap_max_per_poll]
        if imap.processed_folder and uids:
            client.create(_quoted(imap.processed_folder))  # NO when it exists: fine
        sizes = _sizes(client, uids)
        for uid in uids:
            if sizes.get(uid, 0) > max_bytes:
                result.oversized.append(uid)
                log.error(
                    "IMAP account %s folder %s: UID %s is %s bytes, over max_bytes %s; left unread on the server",
                    account.id,
                    imap.folder,
                    uid,
                    sizes[uid],
                    max_bytes,
                )
            else:
                raw = _fetch(client, uid)
                if raw is not None:  # None: expunged by someone else meanwhile
                    _take(account, imap, uidvalidity, uid, raw, result)
                    _dispose(client, uid, imap, capabilities)
            _advance(account.id, imap.folder, uid)
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _take(account: ChannelAccount, imap: ImapSettings, uidvalidity: int, uid: int, raw: bytes, result: PollResult) -> None:
    """The durable write: the same path as the SMTP listener (stored and committed, a duplicate is a no-op)."""
    from service_hub.inbound.tasks import process_inbound_task

    headers = {"X-Imap-Folder": imap.folder, "X-Imap-Uid": str(uid), "X-Imap-Uidvalidity": str(uidvalidity)}
    new_id = store_raw(account.id, HookKind.MESSAGE, provider_id(raw), f"imap://{imap.host}/{imap.folder}", headers, raw)
    if new_id is None:
        result.duplicates += 1
        return
    result.taken += 1
    try:
        process_inbound_task.delay(new_id)
    except Exception:
        log.exception("inbound record %s stored but not enqueued; the sweeper will pick it up", new_id)
        db.session.rollback()


def _dispose(client: imaplib.IMAP4, uid: int, imap: ImapSettings, capabilities: set[str]) -> None:
    """After the commit only: flag the mail \\Seen, or move it (UID MOVE, else COPY + \\Deleted + UID EXPUNGE)."""
    if not imap.processed_folder:
        _ok(client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)"), "UID STORE \\Seen")
        return
    target = _quoted(imap.processed_folder)
    if "MOVE" in capabilities:
        _ok(client.uid("MOVE", str(uid), target), "UID MOVE")
        return
    _ok(client.uid("COPY", str(uid), target), "UID COPY")
    _ok(client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen \\Deleted)"), "UID STORE \\Deleted")
    if "UIDPLUS" in capabilities:  # a plain EXPUNGE would also remove what others marked \Deleted
        _ok(client.uid("EXPUNGE", str(uid)), "UID EXPUNGE")


def _advance(account_id: int, folder: str, uid: int) -> None:
    state = _state(account_id, folder)
    state.last_uid = max(state.last_uid, uid)
    db.session.commit()


def _finish(account_id: int, folder: str, result: PollResult) -> None:
    try:
        state = _state(account_id, folder)
        state.polled_at = utcnow()
        if result.error is not None:
            state.last_error, state.attempts = result.error, (state.attempts or 0) + 1
        elif result.oversized:
            state.last_error, state.attempts = f"left on the server, over max_bytes: UIDs {result.oversized[:20]}", 0
        else:
            state.last_error, state.attempts = None, 0
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("IMAP account %s: the folder state was not updated", account_id)


def _state(account_id: int, folder: str) -> ImapFolderState:
    state = db.session.get(ImapFolderState, (account_id, folder))
    if state is None:
        state = ImapFolderState(account_id=account_id, folder=folder, uidvalidity=0, last_uid=0, attempts=0)
        db.session.add(state)
        db.session.flush()
    return state


@contextmanager
def _account_lock(account_id: int) -> Iterator[bool]:
    """A session advisory lock on a connection of its own (the poll commits many times); SQLite: one process."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield True
        return
    with db.engine.connect() as connection:
        held = bool(connection.scalar(sa.text("SELECT pg_try_advisory_lock(:c, :a)"), {"c": IMAP_LOCK_CLASS, "a": account_id}))
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.scalar(sa.text("SELECT pg_advisory_unlock(:c, :a)"), {"c": IMAP_LOCK_CLASS, "a": account_id})
                connection.commit()


# --- IMAP ---------------------------------------------------------------------------------------


def _check_host(host: str, settings: ChannelSettings) -> None:
    """Admin-configured hosts: no loopback, private or link-local addresses unless allowed (RELIABILITY.md)."""
    if settings.allow_private_urls:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host.strip("[]"), None, proto=socket.IPPROTO_TCP)}
    except OSError as exc:
        raise PollError(f"the IMAP host {host!r} does not resolve: {exc}") from None
    for address in addresses:
        if not ipaddress.ip_address(str(address).split("%")[0]).is_global:
            raise PollError(f"the IMAP host {host!r} is a private, loopback or link-local address; set CHANNEL_ALLOW_PRIVATE_URLS")


def _connect(imap: ImapSettings, timeout: int) -> imaplib.IMAP4:
    if imap.security == "ssl":
        return imaplib.IMAP4_SSL(imap.host.strip("[]"), imap.port, ssl_context=ssl.create_default_context(), timeout=timeout)
    client = imaplib.IMAP4(imap.host.strip("[]"), imap.port, timeout=timeout)
    if imap.security == "starttls":
        client.starttls(ssl_context=ssl.create_default_context())
    return client


def _ok(response: tuple[str, list[object]], what: str) -> list[object]:
    typ, data = response
    if typ != "OK":
        raise PollError(f"{what}: {typ} {data!r}"[:500])
    return data


def _capabilities(client: imaplib.IMAP4) -> set[str]:
    # Servers often announce more after LOGIN (MOVE, UIDPLUS): ask again.
    data = _ok(client.capability(), "CAPABILITY")
    words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace").upper().split()
    return set(words) | {str(c).upper() for c in client.capabilities}


def _uidvalidity(client: imaplib.IMAP4) -> int:
    _, data = client.response("UIDVALIDITY")
    if not data or data[0] is None:
        raise PollError("the server sent no UIDVALIDITY")
    return int(data[-1])


_SIZE = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")


def _sizes(client: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    if not uids:
        return {}
    data = _ok(client.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)"), "UID FETCH RFC822.SIZE")
    sizes: dict[int, int] = {}
    for line in data:
        if not isinstance(line, bytes):
            continue
        uid = size = None
        for match in _SIZE.finditer(line):
            uid = int(match[1]) if match[1] else uid
            size = int(match[2]) if match[2] else size
        if uid is not None and size is not None:
            sizes[uid] = size
    return sizes


def _fetch(client: imaplib.IMAP4, uid: int) -> bytes | None:
    data = _ok(client.uid("FETCH", str(uid), "(UID BODY.PEEK[])"), f"UID FETCH {uid}")
    literals = [item for item in data if isinstance(item, tuple) and b"BODY[]" in item[0]]
    for head, body in literals:
        # (b'7 (UID 12 BODY[] {1234}', b'<the mail>'): the literal of the message with this UID
        if re.search(rb"UID %d\b" % uid, head):
            return bytes(body)
    # Some servers put UID after the literal; one literal for a one-UID fetch is that mail.
    return bytes(literals[0][1]) if len(literals) == 1 else None


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- CLI ----------------------------------------------------------------------------------------

channels_group = AppGroup("channels", help="Channel accounts and the inbox.")


@channels_group.command("poll-imap")
@click.option("--account", "account_id", type=int, default=None, help="Poll this account only.")
def poll_imap_command(account_id: int | None) -> None:
    """Poll the IMAP folders of the active mailboxes once (the scheduler does this every IMAP_POLL_SECONDS)."""
    if account_id is None:
        click.echo(poll_all())
        return
    result = poll_account(account_id)
    click.echo(result)
    if result.error:
        raise SystemExit(1)
