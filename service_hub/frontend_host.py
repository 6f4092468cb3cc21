"""Serves the built browser app (frontend/dist) and its assets; the API lives under /api/v1."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory

DIST = Path(__file__).resolve().parents[1] / "frontend" / "dist"
FALLBACK = Path(__file__).resolve().parents[1] / "frontend" / "fallback"

frontend = Blueprint("frontend", __name__)

# The app's pages may talk only to this origin (API, Socket.IO); no inline scripts.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _root() -> Path:
    return DIST if (DIST / "index.html").exists() else FALLBACK


@frontend.get("/")
def index() -> Response:
    response = send_from_directory(_root(), "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


@frontend.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    root = _root() / "assets"
    if not root.exists():
        abort(404)
    # Vite's built files carry a content hash in their names; the fallback's do not.
    response = send_from_directory(root, filename, max_age=31536000 if root.parent == DIST else 0)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response
