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
            task_time_limit=300,
            task_soft_time_limit=240,
            broker_transport_options={"visibility_timeout": 3600},
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
