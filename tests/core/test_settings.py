from pathlib import Path

import pytest

from config.settings import ConfigError, Settings


def test_embedded_default_needs_nothing(tmp_path: Path):
    s = Settings.from_env({}, instance_path=tmp_path)
    assert s.mode == "embedded" and s.database_url == f"sqlite:///{tmp_path / 'service_hub.sqlite3'}"
    assert s.redis_url is None and len(s.secret_key) >= 32
    # The generated key is kept, so sessions survive a restart.
    assert Settings.from_env({}, instance_path=tmp_path).secret_key == s.secret_key


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://db/x"}, "REDIS_URL"),
        ({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r:6379/0", "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "http://r", "SECRET_KEY": "k" * 40}, "REDIS_URL"),
        (
            {"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r", "SECRET_KEY": "k" * 40, "MAX_ATTACHMENT_BYTES": "lots"},
            "MAX_ATTACHMENT_BYTES",
        ),
        # Channel credentials at rest (issue 3) need a key of their own in production.
        ({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r", "SECRET_KEY": "k" * 40}, "CHANNEL_SECRET_KEY"),
        (
            {"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r", "SECRET_KEY": "k" * 40, "CHANNEL_SECRET_KEY": "short"},
            "CHANNEL_SECRET_KEY",
        ),
    ],
)
def test_production_fails_at_start_naming_the_setting(env, named, tmp_path):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env({"SERVICE_HUB_ENV": "production", **env}, instance_path=tmp_path)


def test_production_normalises_the_driver(tmp_path):
    s = Settings.from_env(
        {"SERVICE_HUB_ENV": "production", "DATABASE_URL": "postgres://u@h/db", "REDIS_URL": "redis://r", "SECRET_KEY": "k" * 40}
        | {"CHANNEL_SECRET_KEY": "0" * 43 + "="},
        instance_path=tmp_path,
    )
    assert s.database_url == "postgresql+psycopg://u@h/db" and s.session_cookie_secure and s.log_json


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SERVICE_HUB_ENV"):
        Settings.from_env({"SERVICE_HUB_ENV": "staging"}, instance_path=tmp_path)
