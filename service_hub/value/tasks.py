"""Celery tasks of customer value: thin wrappers that call the value operations."""

from __future__ import annotations

from celery import shared_task

from service_hub.value.imports import run_uploaded_job

# --- imports ------------------------------------------------------------------------------------


# A large file outlives the default 300 s limit; the hard limit stays below the broker's
# visibility timeout (3600 s), so a slow import is never delivered twice while it still runs.
# The soft limit raises inside the import, which then marks its job failed (finished chunks kept).
@shared_task(name="value.import_file", time_limit=3300, soft_time_limit=3000)
def import_file_task(job_id: int) -> str | None:
    return run_uploaded_job(job_id)


# --- recomputation --------------------------------------------------------------------------------


@shared_task(name="value.recompute", time_limit=1800, soft_time_limit=1500)
def recompute_task(kind: str = "incremental") -> dict[str, object] | None:
    """Nightly full and periodic incremental runs. A run already in progress makes this one a no-op:
    the running one scores the same data (and an incremental one is due again in minutes)."""
    from service_hub.value import recompute, scoring

    try:
        result = recompute.run(kind)
    except scoring.RunInProgress:
        return None
    return {"run_id": result.run_id, "kind": result.kind, "customers": result.customers, "tier_changes": result.tier_changes}
