"""Health, readiness, Prometheus metrics and a request id on every request and log line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text

from service_hub.core.extensions import db

log = logging.getLogger(__name__)

health = Blueprint("health", __name__)

REGISTRY = CollectorRegistry()
REQUEST_LATENCY = Histogram(
    "servicehub_http_request_seconds",
    "HTTP request latency",
    ["method", "endpoint", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
REQUESTS = Counter("servicehub_http_requests_total", "HTTP requests", ["method", "endpoint", "status"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("servicehub_task_queue_depth", "Tasks waiting in the Celery broker queue", ["queue"], registry=REGISTRY)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _redis_client():  # type: ignore[no-untyped-def]
    import redis
    from flask import current_app

    url = current_app.config["SERVICE_HUB"].redis_url
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) if url else None


@health.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "alive"}


@health.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}"
    client = _redis_client()
    if client is None:
        checks["redis"] = "not configured (embedded mode)"
    else:
        try:
            client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    return {"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503


@health.get("/metrics")
def metrics() -> Response:
    from service_hub.auth.principal import require

    @require("metrics:read")
    def render() -> Response:
        client = _redis_client()
        if client is not None:
            try:
                QUEUE_DEPTH.labels("celery").set(client.llen("celery"))
            except Exception:  # metrics must render even when Redis is down
                log.warning("could not read the Celery queue depth from Redis", exc_info=True)
        return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)

    return render()


def init_observability(app: Flask) -> None:
    app.register_blueprint(health)

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None:
            labels = (request.method, request.url_rule.rule if request.url_rule else "unmatched", str(response.status_code))
            REQUEST_LATENCY.labels(*labels).observe(time.perf_counter() - started)
            REQUESTS.labels(*labels).inc()
        return response
