"""The interim page at / in a real browser: log in, see the inbox, page, search, open a ticket, log out.

Needs Playwright (requirements-dev.txt) and Debian's chromium (scripts/install-browser.sh); Playwright's
own browser download is not used. Without them the test is skipped, unless CI=true, where it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.live_server import AGENT_EMAIL, HOSTILE_SUBJECT, MESSAGE, SUBJECT
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SERVICE_HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
STARTUP_SECONDS = 60


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and the browser test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[str]:
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("the browser test runs its own SQLite instance, in the SQLite pass only")
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "embedded",
        "SERVICE_HUB_INSTANCE": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'e2e.sqlite3'}",
        "SECRET_KEY": "e" * 40,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    log = instance / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "tests.e2e.live_server"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        port = None
        while port is None:
            for line in log.read_text().splitlines():
                if line.startswith("READY "):
                    port = int(line.split()[1])
            if port is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the test server did not start:\n{log.read_text()}", pytrace=False)
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"no chromium at {CHROMIUM} (scripts/install-browser.sh installs Debian's)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_login_inbox_detail_and_logout(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_page()
    page.set_default_timeout(15_000)
    console_errors: list[str] = []
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.on("console", lambda message: console_errors.append(message.text) if "Content Security Policy" in message.text else None)
    try:
        page.goto(live_server + "/")
        expect(page.locator("#login-view")).to_be_visible()

        # A wrong password shows the API's problem detail.
        page.fill("#email", AGENT_EMAIL)
        page.fill("#password", "not the password")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login-error")).to_have_text("Wrong email or password.")

        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        rows = page.locator("#ticket-rows tr[data-id]")
        expect(rows).to_have_count(25)
        # Priority order: the urgent ticket first, then the high one.
        expect(rows.nth(0)).to_contain_text(SUBJECT)
        expect(rows.nth(0)).to_contain_text("Li Na")
        expect(rows.nth(0)).to_contain_text("E2E Agent")
        # Markup in a subject is shown as text, not parsed.
        expect(rows.nth(1).locator("a")).to_have_text(HOSTILE_SUBJECT)
        assert page.locator("#injected").count() == 0

        # 32 tickets: the second page has the last 7, and no further page.
        page.click("#next-page")
        expect(rows).to_have_count(7)
        expect(page.locator("#next-page")).to_be_disabled()
        page.click("#first-page")
        expect(rows).to_have_count(25)

        page.fill("#search", "Bangkok")
        page.click("#search-form button[type=submit]")
        expect(rows).to_have_count(1)

        # A click anywhere on the row opens the ticket; the message keeps its text and line break.
        rows.first.locator("td").nth(5).click()
        expect(page.locator("#detail-title")).to_contain_text(SUBJECT)
        expect(page.locator("#messages .body")).to_have_text(MESSAGE)
        page.go_back()
        expect(page.locator("#inbox-view")).to_be_visible()

        page.click("#logout")
        expect(page.locator("#login-view")).to_be_visible()
        page.reload()
        expect(page.locator("#login-view")).to_be_visible()  # the session is really gone
        assert console_errors == []
    finally:
        page.close()
