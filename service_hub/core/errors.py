"""One JSON error shape for every failure (RFC 9457 problem details), never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, fields
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://service-hub.dev/problems/"


class ProblemSchema(Schema):
    """The one error body of the API (application/problem+json)."""

    type = fields.String(metadata={"description": "a URI naming the kind of problem"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "what went wrong, in words for a person"})
    errors = fields.Dict(metadata={"description": "field errors by location (json, query, files) and field name"})
    request_id = fields.String()


class Problem(Exception):
    """Raised by operations for a failure the caller can act on; rendered as problem+json."""

    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, Any] | None = None,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if title is not None:
            self.title = title


class NotFound(Problem):
    status, code, title = 404, "not-found", "Not found"


class Forbidden(Problem):
    status, code, title = 403, "forbidden", "Forbidden"


class Conflict(Problem):
    status, code, title = 409, "conflict", "Conflict"


class ValidationProblem(Problem):
    status, code, title = 422, "validation-failed", "Validation failed"


def problem_response(status: int, code: str, title: str, detail: str, errors: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    title = exc.name or "Error"
    data = getattr(exc, "data", None) or {}
    # webargs (via flask-smorest) puts field errors in data["messages"], keyed by location.
    errors = data.get("messages")
    detail = data.get("message") or exc.description or exc.name
    if errors and status in (400, 422):
        detail = "The request has invalid fields; see errors."
        # A bad query string (unknown filter or operator) is a malformed request, not a bad entity.
        if set(errors) == {"query"}:
            status, title = 400, "Bad Request"
    code = title.lower().replace(" ", "-")
    response = problem_response(status, code, title, str(detail), errors)
    for name, value in exc.get_headers() or []:
        if name.lower() not in {"content-type", "content-length"}:
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_exception)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        # A missing or stale CSRF token is a refusal, not a malformed request.
        return problem_response(
            403, "csrf-failed", "CSRF check failed", f"{exc.description} Fetch /api/v1/auth/csrf and send it as X-CSRFToken."
        )

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.errors)

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> Response:
        return problem_response(409, "conflict", "Conflict", "Someone else changed this record at the same time; reload and try again.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(
            500, "internal-error", "Internal error", "Something went wrong on our side; the error was logged with this request id."
        )
