"""Typed settings read from the environment; the embedded default needs none of them."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

EMBEDDED = "embedded"
PRODUCTION = "production"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names it."""


def _bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(name: str, raw: str | None, default: int, minimum: int = 0) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(name: str, raw: str | None, default: float, minimum: float) -> float:
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum:  # also refuses nan
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


@dataclass(frozen=True)
class ChannelSettings:
    """Channel accounts, webhooks and the durable inbox (issue 3)."""

    # Fernet keys for channel credentials at rest: the first encrypts, all decrypt (rotation).
    secret_keys: tuple[str, ...]
    # The public base URL providers call (what they sign), e.g. https://desk.example.com, when a
    # TLS-terminating proxy sits in front; empty: the URL of the request as we see it.
    public_base_url: str = ""
    default_phone_region: str = "CN"
    webhook_max_bytes: int = 256 * 1024
    # Processing retries: attempt n waits retry_base_seconds * 2**(n-1) (+ jitter), at most
    # retry_max_seconds; after max_attempts the record is dead-lettered.
    max_attempts: int = 8
    retry_base_seconds: int = 10
    retry_max_seconds: int = 3600
    # The sweeper re-enqueues records and deliveries nobody has touched for this long.
    sweep_after_seconds: int = 60
    # Admin-configured provider URLs may point at loopback or private networks (tests, gateways).
    allow_private_urls: bool = False
    # Test-only: processing sleeps this long inside its transaction (the worker-kill test).
    test_delay_seconds: float = 0.0
    # The IMAP poller (service_hub/inbound/imap_poller.py): how often, how many mails per folder
    # and poll (the rest waits for the next poll), and the socket timeout of one IMAP command.
    imap_poll_seconds: int = 60
    imap_max_per_poll: int = 50
    imap_timeout_seconds: int = 30
    # Mail floods: past this many mails from one sender within the window, further mail is stored
    # and threaded quietly onto that sender's latest ticket instead of opening new ones.
    mail_flood_threshold: int = 20
    mail_flood_window_seconds: int = 600

    @classmethod
    def from_env(cls, env: Mapping[str, str], mode: str, secret_key: str) -> ChannelSettings:
        raw_keys = [k.strip() for k in env.get("CHANNEL_SECRET_KEYS", env.get("CHANNEL_SECRET_KEY", "")).split(",") if k.strip()]
        if not raw_keys:
            if mode == PRODUCTION:
                raise ConfigError(
                    "CHANNEL_SECRET_KEY is required in production mode (a Fernet key: "
                    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
                )
            # Embedded default: a key derived from SECRET_KEY, so credentials survive restarts.
            raw_keys = [_derived_fernet_key(secret_key)]
        for key in raw_keys:
            try:
                valid = len(base64.urlsafe_b64decode(key.encode())) == 32
            except ValueError:
                valid = False
            if not valid:
                raise ConfigError("CHANNEL_SECRET_KEY must be Fernet keys (32 url-safe base64-encoded bytes), comma-separated")
        delay = _float("INBOUND_TEST_DELAY_SECONDS", env.get("INBOUND_TEST_DELAY_SECONDS"), 0.0, 0.0)
        if delay and mode == PRODUCTION:
            raise ConfigError("INBOUND_TEST_DELAY_SECONDS is for tests and refused in production mode")
        public = env.get("PUBLIC_BASE_URL", "").strip().rstrip("/")
        if public and urlparse(public).scheme not in {"http", "https"}:
            raise ConfigError(f"PUBLIC_BASE_URL must be an http(s) URL, got {public!r}")
        return cls(
            secret_keys=tuple(raw_keys),
            public_base_url=public,
            default_phone_region=(env.get("DEFAULT_PHONE_REGION", "").strip().upper() or "CN"),
            webhook_max_bytes=_int("WEBHOOK_MAX_BYTES", env.get("WEBHOOK_MAX_BYTES"), 256 * 1024, 1024),
            max_attempts=_int("INBOUND_MAX_ATTEMPTS", env.get("INBOUND_MAX_ATTEMPTS"), 8, 1),
            retry_base_seconds=_int("INBOUND_RETRY_BASE_SECONDS", env.get("INBOUND_RETRY_BASE_SECONDS"), 10, 1),
            retry_max_seconds=_int("INBOUND_RETRY_MAX_SECONDS", env.get("INBOUND_RETRY_MAX_SECONDS"), 3600, 1),
            sweep_after_seconds=_int("INBOUND_SWEEP_AFTER_SECONDS", env.get("INBOUND_SWEEP_AFTER_SECONDS"), 60, 1),
            allow_private_urls=_bool("CHANNEL_ALLOW_PRIVATE_URLS", env.get("CHANNEL_ALLOW_PRIVATE_URLS"), mode != PRODUCTION),
            test_delay_seconds=delay,
            imap_poll_seconds=_int("IMAP_POLL_SECONDS", env.get("IMAP_POLL_SECONDS"), 60, 5),
            imap_max_per_poll=_int("IMAP_MAX_PER_POLL", env.get("IMAP_MAX_PER_POLL"), 50, 1),
            imap_timeout_seconds=_int("IMAP_TIMEOUT_SECONDS", env.get("IMAP_TIMEOUT_SECONDS"), 30, 1),
            mail_flood_threshold=_int("MAIL_FLOOD_THRESHOLD", env.get("MAIL_FLOOD_THRESHOLD"), 20, 1),
            mail_flood_window_seconds=_int("MAIL_FLOOD_WINDOW_SECONDS", env.get("MAIL_FLOOD_WINDOW_SECONDS"), 600, 1),
        )


def _derived_fernet_key(secret_key: str) -> str:
    digest = hashlib.sha256(b"service-hub channel credentials\0" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _celery_limits(env: Mapping[str, str]) -> dict[str, Any]:
    time_limit = _int("CELERY_TASK_TIME_LIMIT", env.get("CELERY_TASK_TIME_LIMIT"), 300, 1)
    visibility = _int("CELERY_VISIBILITY_TIMEOUT", env.get("CELERY_VISIBILITY_TIMEOUT"), 3600, 1)
    if visibility <= time_limit:
        raise ConfigError(
            f"CELERY_VISIBILITY_TIMEOUT ({visibility}) must be longer than CELERY_TASK_TIME_LIMIT ({time_limit}), "
            "or Redis redelivers tasks that are still running"
        )
    return {
        "celery_task_time_limit": time_limit,
        "celery_visibility_timeout": visibility,
        "celery_key_prefix": env.get("CELERY_KEY_PREFIX", "").strip(),
    }


@dataclass(frozen=True)
class Settings:
    mode: str
    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    attachment_dir: Path
    max_attachment_bytes: int
    login_rate_limit: str
    session_cookie_secure: bool
    log_json: bool
    trusted_proxy_count: int
    # Realtime presence (issue 6): how long an agent's last socket may stay closed before they go
    # offline (a reload must not flip them), and how long a typing notice lasts without a refresh.
    presence_offline_grace_seconds: int = 60
    presence_typing_seconds: int = 6
    # Realtime rooms: how often each web process re-checks its sockets' rooms (access revoked,
    # agent deactivated), and the Redis pub/sub channel of the Socket.IO message queue. Channels
    # are global across Redis database numbers: two deployments (or test runs) sharing a Redis
    # need different channels.
    realtime_revalidate_seconds: float = 30.0
    socketio_channel: str = "flask-socketio"
    # Channels and the durable inbox (issue 3; see service_hub/inbound/__init__.py).
    channels: ChannelSettings = field(default_factory=lambda: ChannelSettings(secret_keys=()))
    # Celery on Redis: Redis redelivers an unacknowledged task after visibility_timeout, so it
    # must exceed the hard time limit or a slow task runs twice. key_prefix keeps deployments
    # (or test runs) sharing one Redis database apart.
    celery_task_time_limit: int = 300
    celery_visibility_timeout: int = 3600
    celery_key_prefix: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.mode == PRODUCTION

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, instance_path: Path | None = None) -> Settings:
        env = os.environ if env is None else env
        mode = env.get("SERVICE_HUB_ENV", EMBEDDED).strip().lower() or EMBEDDED
        if mode not in {EMBEDDED, PRODUCTION}:
            raise ConfigError(f"SERVICE_HUB_ENV must be '{EMBEDDED}' or '{PRODUCTION}', got {mode!r}")
        instance = Path(env.get("SERVICE_HUB_INSTANCE", instance_path or Path.cwd() / "instance")).resolve()

        database_url = env.get("DATABASE_URL", "").strip()
        redis_url = env.get("REDIS_URL", "").strip() or None
        secret_key = env.get("SECRET_KEY", "").strip()

        if mode == PRODUCTION:
            if not database_url:
                raise ConfigError("DATABASE_URL is required in production mode (postgresql+psycopg://...)")
            if not database_url.startswith(("postgresql", "postgres")):
                raise ConfigError(f"DATABASE_URL must point at PostgreSQL in production mode, got scheme {urlparse(database_url).scheme!r}")
            if not redis_url:
                raise ConfigError("REDIS_URL is required in production mode (redis://host:6379/0)")
            if len(secret_key) < 32:
                raise ConfigError("SECRET_KEY is required in production mode and must be at least 32 characters")
        if redis_url and urlparse(redis_url).scheme not in {"redis", "rediss"}:
            raise ConfigError(f"REDIS_URL must start with redis:// or rediss://, got {redis_url!r}")

        if not database_url:
            database_url = f"sqlite:///{instance / 'service_hub.sqlite3'}"
        # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask for psycopg2.
        if database_url.startswith("postgres://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
        elif database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
        if not secret_key:
            secret_key = _embedded_secret(instance)

        return cls(
            mode=mode,
            instance_path=instance,
            database_url=database_url,
            redis_url=redis_url,
            secret_key=secret_key,
            attachment_dir=Path(env.get("ATTACHMENT_DIR", instance / "attachments")).resolve(),
            max_attachment_bytes=_int("MAX_ATTACHMENT_BYTES", env.get("MAX_ATTACHMENT_BYTES"), 25 * 1024 * 1024, 1),
            login_rate_limit=env.get("LOGIN_RATE_LIMIT", "10 per minute"),
            session_cookie_secure=_bool("SESSION_COOKIE_SECURE", env.get("SESSION_COOKIE_SECURE"), mode == PRODUCTION),
            log_json=_bool("LOG_JSON", env.get("LOG_JSON"), mode == PRODUCTION),
            # How many proxies in front of us set X-Forwarded-For; rate limits need the real client.
            trusted_proxy_count=_int("TRUSTED_PROXY_COUNT", env.get("TRUSTED_PROXY_COUNT"), 0),
            presence_offline_grace_seconds=_int("PRESENCE_OFFLINE_GRACE_SECONDS", env.get("PRESENCE_OFFLINE_GRACE_SECONDS"), 60),
            presence_typing_seconds=_int("PRESENCE_TYPING_SECONDS", env.get("PRESENCE_TYPING_SECONDS"), 6, 1),
            realtime_revalidate_seconds=_float("REALTIME_REVALIDATE_SECONDS", env.get("REALTIME_REVALIDATE_SECONDS"), 30.0, 0.1),
            socketio_channel=env.get("SOCKETIO_CHANNEL", "").strip() or "flask-socketio",
            channels=ChannelSettings.from_env(env, mode, secret_key),
            **_celery_limits(env),
        )


def _embedded_secret(instance: Path) -> str:
    """Keep one random key in the instance folder so sessions survive restarts of the embedded app."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
