"""Typed settings read from the environment; the embedded default needs none of them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
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
