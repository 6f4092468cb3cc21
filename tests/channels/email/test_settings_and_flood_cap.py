"""The mailbox's IMAP settings (defaults, validation) and the flood cap's arithmetic, without an app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from channels.email.loops import FloodCap
from channels.email.mailbox import ImapSettings, check_settings, imap_settings


def test_imap_settings_defaults_and_absence() -> None:
    assert imap_settings({"smtp_host": "smtp.example.com"}) is None  # not polled
    assert imap_settings({"imap_host": "imap.example.com", "address": "desk@example.com"}) == ImapSettings(
        host="imap.example.com", port=993, security="ssl", user="desk@example.com", folder="INBOX", processed_folder=""
    )
    starttls = imap_settings({"imap_host": "imap.example.com", "imap_security": "STARTTLS", "imap_user": "u", "imap_folder": "Support"})
    assert starttls is not None and (starttls.port, starttls.security, starttls.folder) == (143, "starttls", "Support")


def test_check_settings_names_each_bad_field() -> None:
    assert check_settings({"imap_host": "imap.example.com", "imap_user": "u", "imap_port": "993", "imap_processed_folder": "Done"}) == {}
    errors = check_settings(
        {
            "imap_host": "imap.example.com\r\nX: y",
            "imap_user": "u",
            "imap_port": "0",
            "smtp_port": "abc",
            "imap_security": "maybe",
            "smtp_security": "tls",
            "imap_folder": "Sup*port",
            "imap_processed_folder": "a" * 201,
        }
    )
    assert set(errors) == {"imap_host", "imap_port", "smtp_port", "imap_security", "smtp_security", "imap_folder", "imap_processed_folder"}
    assert "imap_user" in check_settings({"imap_host": "imap.example.com"})  # no user and no address to fall back on
    assert "imap_processed_folder" in check_settings({"imap_host": "h", "imap_user": "u", "imap_processed_folder": "inbox"})


def test_flood_cap_counts_within_the_window() -> None:
    cap = FloodCap(threshold=3, window=timedelta(minutes=10))
    now = datetime(2025, 11, 24, 8, 0, tzinfo=UTC)
    assert cap.since(now) == now - timedelta(minutes=10)
    assert [cap.exceeded(n) for n in range(5)] == [False, False, False, True, True]
