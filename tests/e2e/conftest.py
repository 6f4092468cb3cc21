"""Browser tests: Playwright driving Debian's chromium against a real `flask serve` of the built app.

Needs the built app (frontend/dist: `make test` builds it), Playwright (requirements-dev.txt) and
Debian's chromium (scripts/install-browser.sh); Playwright's own browser download is never used.
Without them the tests are skipped, unless CI=true, where they fail. They run in the SQLite pass
only: the server is the embedded default on its own SQLite file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.channels import recording_server
from tests.e2e import world
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.factories import PASSWORD
from tests.realtime.served_app import Served, serve

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist" / "index.html"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TIMEOUT_MS = 15_000


def missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and the browser test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class App:
    """The served product, its seeded ids and the recording stand-in for the SMS provider."""

    served: Served
    ids: dict[str, Any]
    provider: Any

    @property
    def url(self) -> str:
        return self.served.url

    def flask(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run a `flask` command (sla-escalate, ...) against the served instance, as its cron would."""
        database = self.served.engine.url.database
        assert database is not None
        env = {
            **os.environ,
            "SERVICE_HUB_ENV": "embedded",
            "SERVICE_HUB_INSTANCE": str(Path(database).parent),
            "DATABASE_URL": self.served.engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "r" * 40,  # the served app's (tests/realtime/served_app.serve)
            "PYTHONPATH": str(ROOT),
        }
        env.pop("REDIS_URL", None)
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "service_hub.wsgi", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    def inbound_sms(self, body: str, sender: str = world.CUSTOMER_PHONE, sid: str | None = None) -> int:
        """A customer's SMS as Twilio delivers it: form-encoded, signed with twilio's RequestValidator."""
        import urllib.request

        path = f"/hooks/sms/twilio/{self.ids['sms_slug']}"
        fields = {
            "MessageSid": sid or f"SM{os.urandom(16).hex()}",
            "AccountSid": world.SMS_SID,
            "From": sender,
            "To": world.OUR_NUMBER,
            "Body": body,
            "NumSegments": "1",
            "NumMedia": "0",
        }
        signature = RequestValidator(world.SMS_TOKEN).compute_signature("http://localhost" + path, fields)
        request = urllib.request.Request(
            self.url + path,
            data=urlencode(fields).encode(),
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)


@pytest.fixture(scope="session")
def e2e_app(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[App]:
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("the browser tests run their own SQLite server, in the SQLite pass only")
    if not DIST.exists():
        missing("the browser app is not built (make test builds it: cd frontend && npm ci && npm run build)")
    state, provider_server = recording_server.start()
    try:
        with serve(
            tmp_path_factory.mktemp("e2e"), {"E2E_PROVIDER_URL": state.url, "LOGIN_RATE_LIMIT": "1000 per minute"}, "tests.e2e.world"
        ) as served:
            yield App(served, served.ids, state)
    finally:
        provider_server.shutdown()
        provider_server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -r requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"no chromium at {CHROMIUM} (scripts/install-browser.sh installs Debian's)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Session:
    """One person's browser context, with the page errors it collected."""

    page: Any
    errors: list[str]

    def assert_no_errors(self) -> None:
        assert self.errors == [], self.errors


@pytest.fixture
def open_session(browser: Any, e2e_app: App) -> Iterator[Callable[..., Session]]:
    """open_session("ada@example.test") -> a logged-in page in a fresh context (own cookies)."""
    contexts: list[Any] = []

    def open_(email: str | None = None, locale: str = "en-US", path: str = "/") -> Session:
        context = browser.new_context(locale=locale, viewport={"width": 1440, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
        # Chromium logs every 4xx as "Failed to load resource"; expected refusals (a wrong password, the
        # logged-out probe of /me) are not app errors. Server errors are, and so is any other console error.
        page.on(
            "console",
            lambda message: (
                errors.append(f"console.{message.type}: {message.text}")
                if message.type == "error" and not message.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("response", lambda response: errors.append(f"{response.status} {response.url}") if response.status >= 500 else None)
        page.goto(e2e_app.url + path)
        if email is not None:
            login(page, email)
        return Session(page, errors)

    yield open_
    for context in contexts:
        context.close()


def login(page: Any, email: str, password: str = PASSWORD) -> None:
    from playwright.sync_api import expect

    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("whoami")).to_be_visible()
