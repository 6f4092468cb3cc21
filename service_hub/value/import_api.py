"""/api/v1/value: CSV imports of transactions and monthly revenue, and incremental records.

Admins only (sessions, or their API tokens with value:write to change and value:read to read):
the files and reports hold customers' purchases across all departments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy import select

from service_hub.auth.principal import current_agent, require
from service_hub.core.errors import NotFound, Problem
from service_hub.core.extensions import db
from service_hub.org.models import Role
from service_hub.value.import_schemas import (
    ImportJobDetailSchema,
    ImportJobPageSchema,
    JobListArgs,
    RecordsIn,
    RecordsOutSchema,
    UploadFiles,
    UploadForm,
)
from service_hub.value.imports import import_records, store_upload
from service_hub.value.models import ImportJob
from service_hub.value.tasks import import_file_task

blp = Blueprint("value_imports", __name__, url_prefix="/api/v1/value", description="Customer value: imports")

ADMINS = (Role.ADMIN,)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # app.config["VALUE_IMPORT_MAX_BYTES"] overrides
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the kind field around the file

F = TypeVar("F", bound=Callable[..., Any])


def _max_bytes() -> int:
    return int(current_app.config.get("VALUE_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _upload_limit(view: F) -> F:
    """413 before the body is read when it says it is too large; the app's own limit is sized
    for attachments, so this request gets the import limit instead."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        limit = _max_bytes()
        if (request.content_length or 0) > limit + FORM_OVERHEAD:
            raise Problem(
                f"An import file may be at most {limit // (1024 * 1024)} MB.",
                status=413,
                code="content-too-large",
                title="Content too large",
            )
        request.max_content_length = limit + FORM_OVERHEAD
        return view(*args, **kwargs)

    return cast(F, wrapper)


@blp.route("/imports")
class Imports(MethodView):
    @require("value:read", roles=ADMINS)
    @blp.arguments(JobListArgs, location="query", unknown=RAISE)
    @blp.response(200, ImportJobPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Import jobs, newest first; pass next_before to get the next page."""
        query = select(ImportJob).order_by(ImportJob.id.desc()).limit(args["limit"] + 1)
        if "before" in args:
            query = query.where(ImportJob.id < args["before"])
        jobs = list(db.session.scalars(query))
        more = len(jobs) > args["limit"]
        jobs = jobs[: args["limit"]]
        return {"items": jobs, "next_before": jobs[-1].id if more else None}

    @require("value:write", roles=ADMINS)
    @_upload_limit
    @blp.arguments(UploadForm, location="form")
    @blp.arguments(UploadFiles, location="files")
    @blp.response(202, ImportJobDetailSchema, headers={"Location": {"schema": {"type": "string"}}})
    def post(self, form: dict[str, Any], files: dict[str, Any]) -> tuple[ImportJob, int, dict[str, str]]:
        """Upload a CSV file (multipart field `file`, form field `kind`). The file is stored and
        imported in the background: follow Location, or the value.import.progress events in your
        agent room. Importing the same file again adds nothing."""
        upload = files["file"]
        job = store_upload(upload.stream, upload.filename, form["kind"], current_agent().id, _max_bytes())
        import_file_task.delay(job.id)  # after the commit: a worker always finds the job
        return job, 202, {"Location": url_for("value_imports.ImportItem", job_id=job.id)}


@blp.route("/imports/<int:job_id>")
class ImportItem(MethodView):
    @require("value:read", roles=ADMINS)
    @blp.response(200, ImportJobDetailSchema)
    def get(self, job_id: int) -> ImportJob:
        """One import: its status, counts, and the refused rows with line numbers and reasons."""
        job = db.session.get(ImportJob, job_id)
        if job is None:
            raise NotFound(f"Import {job_id} does not exist.")
        return job


def _records_answer(kind: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = import_records(kind, records)
    counts = Counter(o.status for o in outcomes)
    results = [{"index": o.position, "status": o.status, **({"reason": o.reason} if o.reason else {})} for o in outcomes]
    return {
        "created": counts["created"],
        "updated": counts["updated"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"],
        "results": results,
    }


@blp.route("/transactions")
class Transactions(MethodView):
    @require("value:write", roles=ADMINS)
    @blp.arguments(RecordsIn)
    @blp.response(200, RecordsOutSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add up to 1,000 transactions (the CSV columns as keys). Each record is judged on its own:
        created, duplicate (send transaction_id to make retries safe) or rejected with a reason."""
        return _records_answer("transactions", data["records"])


@blp.route("/revenue")
class Revenue(MethodView):
    @require("value:write", roles=ADMINS)
    @blp.arguments(RecordsIn)
    @blp.response(200, RecordsOutSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Set up to 1,000 monthly ARPU values (customer, month, arpu): created, updated when the
        month had another value, duplicate when it had this one, or rejected with a reason."""
        return _records_answer("revenue", data["records"])
