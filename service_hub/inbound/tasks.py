"""Celery tasks of the inbox: thin, idempotent, never scheduled with a countdown or ETA.

They do not use Celery's retry (a countdown, lost with a killed worker): failures are written to
the database, and the sweeper enqueues what is due (see service_hub/inbound/__init__.py).
"""

from __future__ import annotations

from celery import shared_task

from service_hub.inbound import imap_poller, outbound, processing, sweeper


# ignore_result: the outcome lives in inbound_records; nobody reads a Celery result, and writing one
# to Redis costs a round trip per message (BENCHMARKS.md section 12).
@shared_task(name="inbound.process", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_inbound_task(record_id: int) -> str:
    return processing.process_record(record_id)


@shared_task(name="outbound.send", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_outbound_task(delivery_id: int) -> str:
    return outbound.send_delivery(delivery_id)


@shared_task(name="inbound.sweep")
def sweep_task() -> dict[str, int]:
    return sweeper.sweep()


@shared_task(name="inbound.poll_imap")
def poll_imap_task() -> dict[str, int]:
    # Periodic and idempotent: a lost or doubled run only moves the next poll; taken mail is deduplicated.
    return imap_poller.poll_all()
