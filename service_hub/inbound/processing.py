"""Process one stored raw record, effectively once, whatever is redelivered or killed on the way.

An attempt is two transactions. The claim locks the record, counts the attempt and sets a lease
(next_attempt_at), and commits: a worker killed mid-attempt still used an attempt, so a record
that kills every worker ends dead instead of blocking the queue. The work locks the record
again, skips it if another attempt finished it, and writes the customer, ticket, message and
the record's 'processed' in one transaction: a crash before that commit leaves nothing behind,
and a redelivery does it once.

Failures: a PayloadError (or undecryptable credentials) dead-letters at once; anything else is
retried by the sweeper at next_attempt_at with back-off, until max_attempts, then dead.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from sqlalchemy import select

from channels import registry
from channels.base import HookKind, PayloadError
from config.settings import ChannelSettings
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound import (
    contacts,
    email_intake,  # issue 3: the email family
    media_intake,  # issue 3: inbound attachments
    outbound,
    social_status,  # issue 3: the social family
    voice,
)
from service_hub.inbound.credential_vault import CredentialError
from service_hub.inbound.models import InboundRecord, RecordStatus
from service_hub.inbound.retry_policy import lease_until, next_attempt

log = logging.getLogger(__name__)

FINISHED = (RecordStatus.PROCESSED, RecordStatus.DEAD)


class NotYetKnown(Exception):
    """A status callback for a message whose send has not been recorded yet; retried later."""


def _settings() -> ChannelSettings:
    settings: ChannelSettings = current_app.config["SERVICE_HUB"].channels
    return settings


def _locked(record_id: int) -> InboundRecord | None:
    query = select(InboundRecord).where(InboundRecord.id == record_id).with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(query).first()


def process_record(record_id: int) -> str:
    """Process the record if it still needs it; returns its status afterwards."""
    settings = _settings()
    record = _locked(record_id)
    if record is None:
        db.session.rollback()
        return "missing"
    if record.status in FINISHED:
        status = record.status.value
        db.session.rollback()
        return status
    if record.attempts >= settings.max_attempts:
        _dead(record, f"gave up after {record.attempts} attempts; last error: {record.last_error or 'none (the worker died?)'}")
        db.session.commit()
        return RecordStatus.DEAD.value
    now = utcnow()
    record.attempts += 1
    record.last_attempt_at = now
    record.next_attempt_at = lease_until(now, settings)
    db.session.commit()

    try:
        record = _locked(record_id)
        if record is None or record.status in FINISHED:
            db.session.rollback()
            return record.status.value if record else "missing"
        if settings.test_delay_seconds:
            time.sleep(settings.test_delay_seconds)  # the worker-kill test: a worker busy mid-transaction
        _handle(record)
        record.status = RecordStatus.PROCESSED
        record.processed_at = utcnow()
        record.next_attempt_at = None
        record.last_error = None
        db.session.commit()
        return RecordStatus.PROCESSED.value
    except (PayloadError, CredentialError) as exc:
        db.session.rollback()
        return _after_failure(record_id, exc, permanent=True)
    except Exception as exc:
        db.session.rollback()
        expected = isinstance(exc, (NotYetKnown, media_intake.MediaUnavailable))
        log.warning("inbound record %s: attempt failed: %s", record_id, exc, exc_info=not expected)
        return _after_failure(record_id, exc, permanent=False)


def _handle(record: InboundRecord) -> None:
    account = record.account
    adapter = registry.adapter_for(account.kind)
    if adapter.family == "phone":  # issue 3, the hotline: every record is call events (service_hub.inbound.voice)
        voice.handle_record(record)
    elif record.kind == HookKind.MESSAGE:
        inbounds = adapter.parse_inbound(record.body, account=account.slug, raw_ref=f"inbound:{record.id}", received_at=record.received_at)
        # Issue 3, media: every attachment fetched and stored (or a placeholder) before anything is
        # written; a transient failure raises MediaUnavailable and the record is retried (media_intake).
        media = [media_intake.collect(inbound, adapter, account, record) for inbound in inbounds]
        for inbound, files in zip(inbounds, media, strict=True):
            if adapter.family == "email":  # issue 3, email: threading by Message-ID and [#number]; bounces, auto-replies
                placed = email_intake.deliver(inbound, account, record)
                if placed is not None:
                    record.ticket_id, record.message_id = placed[0].id, placed[1].id
                    media_intake.attach(placed[1], files)
                continue
            ticket, message = contacts.deliver(inbound, account, record)
            record.ticket_id, record.message_id = ticket.id, message.id
            media_intake.attach(message, files)
        if getattr(adapter, "statuses_ride_with_messages", False):  # issue 3, social: Meta mixes statuses into message hooks
            social_status.apply_riding_statuses(adapter, account, record.body)
    elif record.kind == HookKind.STATUS:
        for update in adapter.parse_status(record.body):
            if not outbound.apply_status(account, update):
                raise NotYetKnown(f"no outbound delivery {update.provider_message_id} of account {account.id} yet")
    else:
        raise PayloadError(f"{account.kind} does not process {record.kind.value} records")


def _after_failure(record_id: int, exc: Exception, *, permanent: bool) -> str:
    settings = _settings()
    record = _locked(record_id)
    if record is None:
        db.session.rollback()
        return "missing"
    error = f"{type(exc).__name__}: {exc}"[:4000]
    if permanent or record.attempts >= settings.max_attempts:
        _dead(record, error)
    else:
        record.status = RecordStatus.FAILED
        record.last_error = error
        record.next_attempt_at = next_attempt(utcnow(), record.attempts, settings)
    status = record.status.value
    db.session.commit()
    return status


def _dead(record: InboundRecord, error: str) -> None:
    log.error("inbound record %s dead-lettered: %s", record.id, error)
    record.status = RecordStatus.DEAD
    record.last_error = error[:4000]
    record.next_attempt_at = None


def replay(record_id: int) -> InboundRecord | None:
    """A dead (or failed) record gets a fresh set of attempts; the caller enqueues it."""
    record = _locked(record_id)
    if record is None or record.status not in (RecordStatus.DEAD, RecordStatus.FAILED):
        db.session.rollback()
        return record
    record.status = RecordStatus.RECEIVED
    record.attempts = 0
    record.next_attempt_at = lease_until(utcnow(), _settings())
    db.session.commit()
    return record
