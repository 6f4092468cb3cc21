"""The scheduler: in production one process (`python -m service_hub.scheduler`) that only enqueues
Celery tasks; in the embedded default the same jobs run on a background thread of the web process
(Celery is eager there, so enqueueing runs the task in place).

Jobs are periodic and idempotent, so a missed or doubled run costs nothing; nothing that must
survive a crash is an ETA task (see RELIABILITY.md).

The realtime publisher (outbox -> Socket.IO) is not a job here: it is its own loop, a background
task of `flask serve` when embedded and one `python -m service_hub.realtime.publisher` process in
production.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from service_hub.casework.tasks import escalate_task
from service_hub.core.tasks import prune_outbox_task
from service_hub.inbound.tasks import poll_imap_task as imap_poll_task
from service_hub.inbound.tasks import sweep_task as inbound_sweep_task
from service_hub.value.tasks import recompute_task

log = logging.getLogger(__name__)


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    # delay() enqueues to the workers in production and runs in place (eager) when embedded.
    scheduler.add_job(prune_outbox_task.delay, "interval", hours=1, id="prune_outbox", replace_existing=True, coalesce=True)
    # Every rung fires exactly once however many runs overlap (see casework.escalation).
    scheduler.add_job(escalate_task.delay, "interval", seconds=30, id="sla_escalate", replace_existing=True, coalesce=True, max_instances=1)
    # Customer value: everyone re-ranked nightly (02:30 in China, where the operator's day ends),
    # customers with new records every 10 minutes against the nightly boundaries.
    scheduler.add_job(
        recompute_task.delay, "cron", hour=18, minute=30, kwargs={"kind": "full"}, id="value_full", replace_existing=True, coalesce=True
    )
    scheduler.add_job(
        recompute_task.delay,
        "interval",
        minutes=10,
        kwargs={"kind": "incremental"},
        id="value_incremental",
        replace_existing=True,
        coalesce=True,
    )
    # Issue 3: inbound records and outbound deliveries that are due (retries, lost enqueues, dead workers).
    scheduler.add_job(
        inbound_sweep_task.delay, "interval", seconds=15, id="inbound_sweep", replace_existing=True, coalesce=True, max_instances=1
    )
    # Issue 3, email: new mail from the IMAP folders (UID-based; the inbox deduplicates a doubled run).
    scheduler.add_job(
        imap_poll_task.delay,
        "interval",
        seconds=app.config["SERVICE_HUB"].channels.imap_poll_seconds,
        id="imap_poll",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )


def start_embedded(app: Flask) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    scheduler.start()
    return scheduler


def main() -> None:
    from service_hub import create_app

    app = create_app()
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    log.info("scheduler started with jobs: %s", [job.id for job in scheduler.get_jobs()])
    scheduler.start()


if __name__ == "__main__":
    main()
