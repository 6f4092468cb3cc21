"""Celery tasks of casework, enqueued by the scheduler."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from service_hub.casework.escalation import run_escalations


@shared_task(name="casework.escalate")
def escalate_task() -> dict[str, int]:
    return asdict(run_escalations())
