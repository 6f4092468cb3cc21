"""Celery bound to the Flask app: tasks run in an app context; eager in the embedded default."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from config.settings import Settings


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    if settings.redis_url:
        # The promises of RELIABILITY.md: a task is acknowledged after it ran, a killed worker's
        # task is redelivered, and Redis does not redeliver a task that is merely slow.
        celery_app.conf.update(
            broker_url=settings.redis_url,
            result_backend=settings.redis_url,
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            task_time_limit=settings.celery_task_time_limit,
            task_soft_time_limit=max(1, settings.celery_task_time_limit * 4 // 5),
            # Settings refuse a visibility timeout not longer than the hard time limit.
            broker_transport_options={
                "visibility_timeout": settings.celery_visibility_timeout,
                # A dead worker's task comes back once the visibility timeout has passed, found by a
                # sweep every tenth of it; kombu's own default scans only every 10th sweep.
                "unacked_restore_interval": max(1, min(60, settings.celery_visibility_timeout // 10)),
                "unacked_restore_throttle": 1,
            }
            | ({"global_keyprefix": settings.celery_key_prefix} if settings.celery_key_prefix else {}),
            worker_prefetch_multiplier=1,
            task_always_eager=False,
        )
    else:
        # Embedded default: no broker, tasks run in process when they are sent.
        celery_app.conf.update(task_always_eager=True, task_eager_propagates=True, broker_url="memory://", result_backend="cache+memory://")
    celery_app.conf.update(task_serializer="json", accept_content=["json"], timezone="UTC", enable_utc=True)
    celery_app.conf.update(app.config.get("CELERY", {}))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
