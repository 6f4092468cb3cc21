"""Serves the built browser app (frontend/dist): index.html for every client-side route, and its assets.

The API lives under /api/v1, provider webhooks under /hooks, Socket.IO under /socket.io; those
prefixes never fall through to the app. `make run` and CI build frontend/dist (`npm ci && npm run
build` in frontend/); the built files are not committed. Without them, / says how to build them.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory

DIST = Path(__file__).resolve().parents[1] / "frontend" / "dist"

frontend = Blueprint("frontend", __name__)

# The app's pages may talk only to this origin (API, Socket.IO); no inline scripts. Inline styles
# stay allowed: the component library (Naive UI) injects its CSS at run time.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SERVER_PREFIXES = ("api/", "hooks/", "socket.io", "assets/", "healthz", "readyz", "metrics")

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Service Hub</title></head>
<body><h1>Service Hub</h1><p>The browser app is not built. Run <code>make run</code>, or
<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>. The API is at <a href="/api/v1/docs">/api/v1/docs</a>.</p>
</body></html>"""


def _page() -> Response:
    if not (DIST / "index.html").exists():
        response = Response(NOT_BUILT, status=503, mimetype="text/html")
    else:
        # index.html must never be cached: it names the current hashed bundles.
        response = send_from_directory(DIST, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


@frontend.get("/")
def index() -> Response:
    return _page()


@frontend.get("/<path:route>")
def client_route(route: str) -> Response:
    """A deep link (/tickets/42) or a reload on a client route: the app's router takes it from there."""
    if route.startswith(SERVER_PREFIXES) or "." in route.rsplit("/", 1)[-1]:
        abort(404)  # an unknown API path or a missing file is a 404, not the app
    return _page()


@frontend.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    root = DIST / "assets"
    if not root.exists():
        abort(404)
    # Vite's built files carry a content hash in their names: cache them for a year.
    response = send_from_directory(root, filename, max_age=31536000)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response
