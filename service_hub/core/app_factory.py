"""create_app(): bind settings, extensions and feature blueprints; nothing happens at import."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from config.logging import configure_logging
from config.settings import Settings
from service_hub.core import extensions as ext
from service_hub.core.celery_app import celery_init_app
from service_hub.core.db import configure_sqlite
from service_hub.core.errors import register_error_handlers
from service_hub.core.observability import init_observability

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def create_app(settings: Settings | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("service_hub", instance_path=str(settings.instance_path), static_folder=None)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(
        SERVICE_HUB=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True} if not settings.uses_sqlite else {},
        MAX_CONTENT_LENGTH=settings.max_attachment_bytes + 1024 * 1024,
        MAX_FORM_PARTS=200,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_NAME="servicehub_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # CSRF is checked in auth.principal for cookie sessions only; tokens need none.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken", "X-CSRF-Token"],
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        API_TITLE="Service Hub API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "session": {"type": "apiKey", "in": "cookie", "name": "servicehub_session"},
                    "token": {"type": "http", "scheme": "bearer"},
                }
            },
            "security": [{"session": []}, {"token": []}],
        },
    )
    if overrides:
        app.config.update(overrides)
    if settings.trusted_proxy_count:
        n = settings.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    if not app.testing:  # pytest captures logs itself
        configure_logging(settings.log_json)

    import service_hub.models

    ext.db.init_app(app)
    if settings.uses_sqlite:
        with app.app_context():
            configure_sqlite(ext.db.engine)
    ext.migrate.init_app(app, ext.db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    ext.login_manager.init_app(app)
    ext.csrf.init_app(app)
    ext.limiter.init_app(app)
    # One Socket.IO server in the embedded default; processes share events over Redis in production.
    ext.socketio.init_app(
        app,
        message_queue=settings.redis_url,
        channel=settings.socketio_channel,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", _socketio_async_mode()),
        cors_allowed_origins=[],
    )
    celery_init_app(app, settings)

    init_observability(app)
    from service_hub.auth.principal import init_auth

    init_auth(app)
    _register_blueprints(app)
    import service_hub.realtime.connections  # noqa: F401  (Socket.IO event handlers)

    register_error_handlers(app)
    _register_commands(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype in {"application/json", "application/problem+json"}:
            response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        return response

    return app


def _socketio_async_mode() -> str:
    """gevent only where gevent has patched the process (gunicorn's gevent worker); workers,
    the scheduler and CLI commands run plain threads and emit through the message queue."""
    try:
        from gevent import monkey

        return "gevent" if monkey.is_module_patched("socket") else "threading"
    except ImportError:
        return "threading"


def _register_blueprints(app: Flask) -> None:
    from service_hub.auth.api import blp as auth_blp
    from service_hub.canned.api import blp as canned_blp  # issue 7: canned responses
    from service_hub.casework.case_api import blp as cases_blp
    from service_hub.casework.queue_api import blp as queues_blp
    from service_hub.casework.reports_api import blp as reports_blp
    from service_hub.casework.routing_api import blp as routing_blp
    from service_hub.casework.sla_api import blp as sla_blp
    from service_hub.casework.workflows_api import blp as workflows_blp
    from service_hub.collab.api import blp as collab_blp
    from service_hub.customers.api import blp as customers_blp
    from service_hub.frontend_host import frontend
    from service_hub.inbound.api import blp as channels_blp
    from service_hub.inbound.callback_api import blp as calls_blp  # issue 3, the hotline: call-backs
    from service_hub.inbound.voice_webhooks import voice_hooks  # issue 3, the hotline
    from service_hub.inbound.webhooks import hooks as channel_hooks
    from service_hub.org.api import blp as org_blp
    from service_hub.tickets.api import blp as tickets_blp
    from service_hub.value.import_api import blp as value_imports_blp
    from service_hub.value.value_api import blp as value_blp

    ext.api.init_app(app)
    blueprints = (auth_blp, tickets_blp, customers_blp, org_blp, cases_blp, reports_blp, routing_blp, queues_blp, sla_blp, workflows_blp)
    blueprints += (value_imports_blp, value_blp, collab_blp)
    blueprints += (channels_blp,)  # issue 3: channel accounts and dead letters
    blueprints += (calls_blp,)  # issue 3, the hotline: POST /tickets/<id>/calls
    blueprints += (canned_blp,)  # issue 7: canned responses
    for blp in blueprints:
        ext.api.register_blueprint(blp)
    app.register_blueprint(channel_hooks)  # issue 3: provider webhooks, public and signed
    app.register_blueprint(voice_hooks)  # issue 3, the hotline: Twilio Voice IVR answered in TwiML
    app.register_blueprint(frontend)


def _register_commands(app: Flask) -> None:
    import click

    from service_hub.casework.commands import sla_escalate_command
    from service_hub.demo.seed import seed_demo_command
    from service_hub.inbound.imap_poller import channels_group
    from service_hub.org.commands import create_admin_command
    from service_hub.value.commands import value_group

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(sla_escalate_command)
    app.cli.add_command(value_group)
    app.cli.add_command(channels_group)  # issue 3: flask channels poll-imap

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=5000, type=int)
    def serve(host: str, port: int) -> None:
        """Run the embedded default: web, Socket.IO, the scheduler and the realtime publisher in one process."""
        from service_hub.realtime import publisher
        from service_hub.scheduler import start_embedded

        if not app.config["SERVICE_HUB"].is_production:
            start_embedded(app)
            publisher.start_embedded(app)  # production runs `python -m service_hub.realtime.publisher`
        # Flask ignores app.run() under `flask <command>` unless this is cleared.
        os.environ.pop("FLASK_RUN_FROM_CLI", None)
        ext.socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
