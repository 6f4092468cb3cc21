"""Debian's chromium as the browser tests, the first-load benchmark and the screenshots launch it.

Playwright drives /usr/bin/chromium (scripts/install-browser.sh), never a browser it downloads.
No network beyond 127.0.0.1 here: without these flags chromium keeps calling Google's hosts.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("SERVICE_HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
