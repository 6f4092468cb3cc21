"""The scheduler: in production one process (`python -m service_hub.scheduler`) that only enqueues
Celery tasks; in the embedded default the same jobs run on a background thread of the web process.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import delete

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.core.types import utcnow

log = logging.getLogger(__name__)

OUTBOX_RETENTION = timedelta(days=7)


def prune_outbox(app: Flask) -> int:
    """Delete outbox events past the catch-up window; a client gone longer than that reloads."""
    with app.app_context():
        result = db.session.execute(delete(OutboxEvent).where(OutboxEvent.created_at < utcnow() - OUTBOX_RETENTION))
        db.session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    scheduler.add_job(prune_outbox, "interval", hours=1, args=[app], id="prune_outbox", replace_existing=True, coalesce=True)


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
