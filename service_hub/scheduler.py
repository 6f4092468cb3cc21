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

log = logging.getLogger(__name__)


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    # delay() enqueues to the workers in production and runs in place (eager) when embedded.
    scheduler.add_job(prune_outbox_task.delay, "interval", hours=1, id="prune_outbox", replace_existing=True, coalesce=True)
    # Every rung fires exactly once however many runs overlap (see casework.escalation).
    scheduler.add_job(escalate_task.delay, "interval", seconds=30, id="sla_escalate", replace_existing=True, coalesce=True, max_instances=1)


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
