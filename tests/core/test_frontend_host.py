"""The browser app's host: client routes get the app's page, server paths never do."""

from __future__ import annotations

from pathlib import Path

import pytest

from service_hub import frontend_host


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in dist/ so these tests do not depend on the npm build having run."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    monkeypatch.setattr(frontend_host, "DIST", tmp_path)
    return tmp_path


@pytest.mark.parametrize("path", ["/", "/inbox", "/inbox/unassigned", "/tickets/42", "/admin/channels"])
def test_client_routes_get_the_page_with_its_csp_and_no_cache(client, built, path):  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200
    assert b"<div id=app>" in response.data
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'self': no inline script
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"].startswith("no-cache") or "max-age=0" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/hooks/nothing", "/socket.io-nope", "/favicon.ico", "/assets/missing.js"])
def test_server_paths_and_missing_files_are_404_not_the_page(client, built, path):  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 404
    assert b"<div id=app>" not in response.data


def test_hashed_assets_are_cached_for_a_year(client, built):  # type: ignore[no-untyped-def]
    response = client.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]


def test_without_a_build_the_page_says_how_to_build(client, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(frontend_host, "DIST", tmp_path / "missing")
    response = client.get("/inbox")
    assert response.status_code == 503
    assert b"npm run build" in response.data
