"""The scheduler's safety net: enqueue inbound records and outbound deliveries that are due.

Due means: stored but never enqueued (or the enqueue was lost), a retry whose back-off has run
out, or an attempt whose worker died (its lease, next_attempt_at, ran out). Enqueueing twice is
harmless: processing and sending are idempotent.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select, update

from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound.models import InboundRecord, OutboundDelivery, OutboundStatus, RecordStatus
from service_hub.inbound.retry_policy import lease_until

log = logging.getLogger(__name__)

BATCH = 500


def due_records(limit: int = BATCH) -> list[int]:
    query = (
        select(InboundRecord.id)
        .where(InboundRecord.status.in_((RecordStatus.RECEIVED, RecordStatus.FAILED)), InboundRecord.next_attempt_at <= utcnow())
        .order_by(InboundRecord.next_attempt_at, InboundRecord.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def due_deliveries(limit: int = BATCH) -> list[int]:
    query = (
        select(OutboundDelivery.id)
        .where(
            OutboundDelivery.status.in_((OutboundStatus.QUEUED, OutboundStatus.SENDING)),
            OutboundDelivery.message_id.is_not(None),
            OutboundDelivery.next_attempt_at <= utcnow(),
        )
        .order_by(OutboundDelivery.next_attempt_at, OutboundDelivery.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def sweep() -> dict[str, int]:
    from service_hub.inbound.tasks import process_inbound_task, send_outbound_task

    records, deliveries = due_records(), due_deliveries()
    # A new lease on what is enqueued now: a long queue does not get the same ids every sweep.
    lease = lease_until(utcnow(), current_app.config["SERVICE_HUB"].channels)
    if records:
        db.session.execute(update(InboundRecord).where(InboundRecord.id.in_(records)).values(next_attempt_at=lease))
    if deliveries:
        db.session.execute(update(OutboundDelivery).where(OutboundDelivery.id.in_(deliveries)).values(next_attempt_at=lease))
    db.session.commit()  # before the tasks (eager when embedded) start their own transactions
    for record_id in records:
        process_inbound_task.delay(record_id)
    for delivery_id in deliveries:
        send_outbound_task.delay(delivery_id)
    if records or deliveries:
        log.info("sweeper enqueued %s inbound records and %s outbound deliveries", len(records), len(deliveries))
    return {"records": len(records), "deliveries": len(deliveries)}
