"""Running the value model: with the active model, recording failures, telling supervisors.

The scheduler runs a full computation nightly and an incremental one every few minutes; admins
and supervisors start either on demand (API or `flask value recompute`). All go through `run`.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.value import scoring
from service_hub.value.model_store import active_model
from service_hub.value.models import ValueRun

log = logging.getLogger(__name__)


def has_full_run() -> bool:
    return db.session.scalar(select(ValueRun.id).where(ValueRun.kind == "full", ValueRun.status == "done").limit(1)) is not None


def run(kind: str, as_of: date | None = None, progress: scoring.Progress | None = None) -> scoring.RunResult:
    """A full or incremental run; an incremental one before any full run becomes a full one."""
    version, config = active_model()
    if kind == "incremental" and not has_full_run():
        kind = "full"
    try:
        result = scoring.recompute(kind, config, version, as_of=as_of, progress=progress)
    except scoring.RunInProgress:
        db.session.rollback()
        raise
    except Exception as exc:
        db.session.rollback()
        log.exception("value %s run failed", kind)
        db.session.add(
            ValueRun(
                kind=kind,
                as_of=as_of or utcnow().date(),
                model_version=version,
                status="failed",
                error=str(exc)[:2000],
                finished_at=utcnow(),
            )
        )
        db.session.commit()
        raise
    payload = {
        "run_id": result.run_id,
        "kind": kind,
        "customers": result.customers,
        "tier_changes": result.tier_changes,
        "seconds": round(result.seconds, 2),
    }
    record_event("value.run.finished", payload, ["supervisors"])
    db.session.commit()
    return result
