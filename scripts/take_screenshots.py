"""Screenshots of the browser app's main screens for the README and docs: docs/screenshots/*.png.

    .venv/bin/python scripts/take_screenshots.py [--out docs/screenshots]

A real `flask serve` (embedded mode) on a throwaway SQLite database filled by `flask seed-demo`,
plus what makes the screens worth showing: customer value scored from imported transactions and
revenue (`flask value import` / `recompute`), complaints forwarded and dispatched to the Beijing
billing back office (its board), and on one hotline ticket an earlier WeChat message from the same
customer and an internal note that @mentions the supervisor. Debian's chromium through Playwright
(the e2e tests' flags), viewport 1440x900 at 1x; English, and the inbox once more in Chinese.
Needs the built app (frontend/dist), fonts-noto-cjk (scripts/install-browser.sh) and, for the
channel and bell icons, fonts-noto-color-emoji.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 (after the sys.path line)

PASSWORD = "servicehub-demo"  # noqa: S105  (the published demo password)
AGENT = "bj.hotline1@servicehub.example"
SUPERVISOR = "bj.supervisor@servicehub.example"
BACK_OFFICE = "bj.billing1@servicehub.example"
ADMIN = "admin@servicehub.example"
VIEWPORT = {"width": 1440, "height": 900}


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, "-m", "flask", "--app", "service_hub.wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def value_files(env: dict[str, str], work: Path) -> tuple[Path, Path]:
    """A year of transactions and six months of ARPU per customer, so value scores and tiers exist."""
    import sqlite3

    rng = random.Random(11)
    database = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        numbers = [row[0] for row in conn.execute("SELECT customer_number FROM customers WHERE customer_number IS NOT NULL")]
    today = date.today()
    transactions, revenue = work / "transactions.csv", work / "revenue.csv"
    with transactions.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["customer_number", "date", "amount", "product", "transaction_id"])
        for n, number in enumerate(numbers):
            spend = rng.lognormvariate(4, 0.9)
            for k in range(rng.randint(1, 14)):
                day = today - timedelta(days=rng.randint(1, 365))
                out.writerow([number, day.isoformat(), f"{spend * rng.uniform(0.5, 1.5):.2f}", "top-up", f"T{n}-{k}"])
    with revenue.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["customer_number", "month", "arpu"])
        for number in numbers:
            arpu = rng.lognormvariate(4.2, 0.6)
            for m in range(1, 7):
                month = (today.replace(day=1) - timedelta(days=31 * m)).strftime("%Y-%m")
                out.writerow([number, month, f"{arpu * rng.uniform(0.85, 1.15):.2f}"])
    return transactions, revenue


def enrich() -> dict[str, Any]:
    """In the served database (env already set): board cases, a WeChat message, ids to visit."""
    from sqlalchemy import func, select

    from service_hub import create_app
    from service_hub.auth.principal import Principal
    from service_hub.casework import case_engine
    from service_hub.core.extensions import db
    from service_hub.customers.models import ContactIdentity, IdentityKind
    from service_hub.org.models import Agent, Department
    from service_hub.tickets.models import Channel, DeliveryStatus, Direction, Message, Ticket, TicketStatus
    from service_hub.tickets.operations import create_ticket

    app = create_app()
    with app.app_context():
        supervisor = db.session.scalar(select(Agent).where(Agent.email == SUPERVISOR))
        agent = db.session.scalar(select(Agent).where(Agent.email == AGENT))
        front = db.session.scalar(select(Department).where(Department.code == "bj-frontline"))
        hotline = db.session.scalar(select(Department).where(Department.code == "bj-frontline-hotline"))
        billing = db.session.scalar(select(Department).where(Department.code == "bj-billing"))
        assert supervisor and agent and front and hotline and billing

        # The board: complaints registered by the front line, forwarded to dispatch and sent to billing.
        principal = Principal(agent=supervisor, via="system")
        subjects = [
            "Charged twice for the international roaming pack",
            "Value-added service billed after cancellation",
            "Family plan discount missing on this month's bill",
            "Refund promised in March never arrived",
        ]
        customers = db.session.scalars(
            select(Ticket.customer_id).where(Ticket.department_id.in_([front.id, hotline.id])).distinct().limit(len(subjects))
        ).all()
        for subject, customer_id in zip(subjects, customers, strict=False):
            ticket = create_ticket(
                principal,
                {
                    "subject": subject,
                    "channel": Channel.PHONE,
                    "department_id": front.id,
                    "customer_id": customer_id,
                    "custom_fields": {"category": "complaint", "summary": subject},
                    "message": {"body_text": subject + ". Please look into it."},
                },
            )
            db.session.commit()
            record = case_engine.perform(principal, ticket, "forward", {}, None, ticket.version)
            db.session.refresh(ticket)
            case_engine.perform(principal, ticket, "dispatch", {"department": billing.id}, None, ticket.version)
            del record

        # The case view: an open ticket of the agent's, of a customer on WeChat too, with a few messages.
        messages = func.count(Message.id)
        case_id = db.session.scalar(
            select(Ticket.id)
            .join(Message, Message.ticket_id == Ticket.id)
            .join(ContactIdentity, (ContactIdentity.customer_id == Ticket.customer_id) & (ContactIdentity.kind == IdentityKind.WECHAT))
            .where(Ticket.assignee_id == agent.id, Ticket.status == TicketStatus.OPEN, Ticket.channel != Channel.WECHAT)
            .group_by(Ticket.id)
            .having(messages >= 3)
            .order_by(messages.desc(), Ticket.id)
            .limit(1)
        )
        assert case_id is not None, "no open ticket of the agent with messages and a WeChat customer in the demo data"
        ticket = db.session.get(Ticket, case_id)
        assert ticket is not None
        first = db.session.scalar(select(func.min(Message.created_at)).where(Message.ticket_id == case_id))
        db.session.add(
            Message(
                ticket_id=case_id,
                direction=Direction.INBOUND,
                channel=Channel.WECHAT,
                author_customer_id=ticket.customer_id,
                body_text="我在微信上也发了截图：这个月的账单多扣了两次国际漫游包的费用。",  # noqa: RUF001
                delivery_status=DeliveryStatus.NONE,
                created_at=(first or datetime.now(UTC)) + timedelta(minutes=3),
            )
        )
        db.session.commit()
        return {
            "case": case_id,
            "customer": ticket.customer_id,
            "supervisor": {"id": supervisor.id, "name": supervisor.name},
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Shooter:
    def __init__(self, browser: Any, url: str, out: Path) -> None:
        self.browser, self.url, self.out = browser, url, out
        self.problems: list[str] = []

    def page(self, email: str | None, locale: str = "en-US") -> Any:
        context = self.browser.new_context(locale=locale, viewport=VIEWPORT, device_scale_factor=1)
        lang = "zh-CN" if locale.startswith("zh") else "en"
        context.add_init_script(f"localStorage.setItem('service-hub.locale', '{lang}')")
        if email:
            token = context.request.get(f"{self.url}/api/v1/auth/csrf").json()["csrf_token"]
            answer = context.request.post(
                f"{self.url}/api/v1/auth/login", data={"email": email, "password": PASSWORD}, headers={"X-CSRFToken": token}
            )
            assert answer.ok, answer.text()
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda error: self.problems.append(f"{email}: pageerror {error}"))
        page.on("response", lambda r: self.problems.append(f"{email}: {r.status} {r.url}") if r.status >= 500 else None)
        return page

    def shot(self, page: Any, name: str, full_page: bool = False, close: bool = True) -> None:
        page.wait_for_timeout(600)  # transitions and charts settle
        page.mouse.move(0, 0)
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), type="png", full_page=full_page)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB", flush=True)
        if close:
            page.context.close()


def shoot(url: str, ids: dict[str, Any], out: Path) -> list[str]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a shared, busy machine: the first loads can be slow
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        s = Shooter(browser, url, out)

        page = s.page(None)
        page.goto(f"{url}/login")
        expect(page.locator("#login-email")).to_be_visible()
        s.shot(page, "login")

        for locale, name in (("en-US", "inbox"), ("zh-CN", "inbox-zh")):
            page = s.page(AGENT, locale)
            page.goto(f"{url}/inbox/all")
            expect(page.locator("tbody tr[data-ticket-id]").first).to_be_visible()
            s.shot(page, name)

        # The note with a mention goes through the API, as the composer sends it.
        page = s.page(AGENT)
        page.goto(f"{url}/tickets/{ids['case']}")
        sup = ids["supervisor"]
        token = page.evaluate("() => fetch('/api/v1/auth/csrf').then((r) => r.json()).then((b) => b.csrf_token)")
        note = f"@[{sup['name']}](agent:{sup['id']}) the customer was double-charged for roaming; can we refund both packs today?"
        answer = page.request.post(
            f"{url}/api/v1/tickets/{ids['case']}/messages", data={"kind": "note", "body_text": note}, headers={"X-CSRFToken": token}
        )
        if not answer.ok:
            s.problems.append(f"note: {answer.status} {answer.text()[:200]}")
        page.reload()
        expect(page.get_by_test_id("timeline")).to_be_visible()
        page.get_by_test_id("timeline").get_by_text("double-charged").first.wait_for()
        s.shot(page, "case")

        page = s.page(AGENT)
        page.goto(f"{url}/customers/{ids['customer']}")
        expect(page.get_by_test_id("value-breakdown")).to_be_visible()
        s.shot(page, "customer")

        page = s.page(BACK_OFFICE)
        page.goto(f"{url}/board")
        expect(page.locator("[data-testid^='board-card-']").first).to_be_visible()
        s.shot(page, "board")

        page = s.page(SUPERVISOR)
        page.goto(f"{url}/supervisor")
        expect(page.get_by_test_id("queue-table")).to_be_visible()
        page.locator("canvas").first.wait_for()
        s.shot(page, "supervisor", close=False)
        page.locator("canvas").first.scroll_into_view_if_needed()  # the hourly chart is below the first screen
        s.shot(page, "supervisor-chart")

        page = s.page(ADMIN)
        page.goto(f"{url}/admin/value")
        page.get_by_role("table").first.wait_for()
        s.shot(page, "admin-value")
        browser.close()
        return s.problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        raise SystemExit("build the app first: cd frontend && npm ci && npm run build")
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="servicehub-shots-"))
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "embedded",
        "SERVICE_HUB_INSTANCE": str(work),
        "DATABASE_URL": f"sqlite:///{work / 'demo.sqlite3'}",
        "SECRET_KEY": "screenshots-" + "s" * 40,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    transactions, revenue = value_files(env, work)
    flask(env, "value", "import", str(transactions), "--kind", "transactions")
    flask(env, "value", "import", str(revenue), "--kind", "revenue")
    flask(env, "value", "recompute")
    os.environ.update(env)
    ids = enrich()
    port = free_port()
    log = (work / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "service_hub.wsgi", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1).close()  # noqa: S310  (http://127.0.0.1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start; see {work / 'server.log'}") from None
                time.sleep(0.2)
        problems = shoot(url, ids, args.out)
    finally:
        server.terminate()
        server.wait(timeout=10)
    for problem in problems:
        print("problem:", problem)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
