"""Celery tasks of the core: thin wrappers that call operations inside the app context."""

from __future__ import annotations

from celery import shared_task

from service_hub.core.outbox import prune_outbox


@shared_task(name="core.prune_outbox")
def prune_outbox_task() -> int:
    return prune_outbox()
