"""First load of the browser app's inbox with 10,000 tickets in the department, in headless Chromium.

    python -m bench.bench_first_load [--tickets 10000] [--cold 20] [--warm 20]

Issue 7's targets: the list usable in under 1.5 s, the first screen's JavaScript under 400 KB gzipped.

Production shape: PostgreSQL database `servicehub_bench_firstload` (dropped, created, migrated and
seeded here: one centre, one department, one agent, --tickets active tickets in that department,
each with its customer's identity and one message), gunicorn with config/gunicorn.conf.py (gevent,
SERVICE_HUB_ENV=production, Redis) serving the built frontend/dist, and the realtime publisher.
frontend/dist is built first (`npm run build`) when it is missing or older than frontend/src.

The browser is Debian's chromium through Playwright with the e2e tests' flags. The agent logs in
once through the API; each load starts from that session cookie, so what is timed is the inbox's
load, not typing. A cold load is a fresh browser context (empty HTTP cache); a warm load is a
second navigation in one context (hashed assets come from the cache, index.html and the API calls
do not). Each load goes to /inbox/all and ends when the first ticket row is in the DOM and selected
(the inbox selects the first row when the list arrives: the moment j/k/Enter act on it), taken in
the page with performance.now() from a MutationObserver, then the next animation frame (painted).
Then j is pressed and the second row must become the selected one (checked, and timed too).
The breakdown comes from the page's Navigation and Resource Timing entries.

JavaScript size: every script the page fetched during a cold load of the inbox (network responses,
not dist/ totals), raw and gzip -9; Flask/gunicorn do not compress, a proxy in front would.

The machine is shared: CPU of the server, the publisher, chromium and PostgreSQL, and of every
other process (`other_processes_cores`) during the measured loads, from /proc.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH_PASSWORD,
    BENCH_SECRET_KEY,
    DEFAULT_REDIS_URL,
    DEFAULT_SERVER_URL,
    REPO_ROOT,
    RESULTS_DIR,
    create_database,
    machine,
    percentile,
    provenance,
    sqlalchemy_url,
    wait_http,
    write_result,
)
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS  # the browser tests' flags: no calls to Google's hosts while measuring

DATABASE = "servicehub_bench_firstload"
AGENT_EMAIL = "firstload.agent@bench.servicehub.test"
FRONTEND = REPO_ROOT / "frontend"
DIST_INDEX = FRONTEND / "dist" / "index.html"
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_SECONDS = 1.5
TARGET_JS_GZIP_KB = 400

# Runs in the page before its own scripts: notes when the first ticket row is in the DOM and
# selected, and the frame after (painted), in performance.now() time (0 = navigation start).
MARKER_SCRIPT = """
(() => {
  const ROW = 'tbody tr[data-ticket-id][aria-selected="true"]';
  const seen = () => {
    if (window.__firstRowAt !== undefined || !document.querySelector(ROW)) return false;
    window.__firstRowAt = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__paintedAt = performance.now(); }, 0));
    return true;
  };
  new MutationObserver((_, observer) => { if (seen()) observer.disconnect(); })
    .observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-selected"] });
})();
"""

# The breakdown, read from the page after the load.
TIMING_SCRIPT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource").map((r) => ({
    name: r.name, type: r.initiatorType, start: r.startTime, requestStart: r.requestStart,
    responseStart: r.responseStart, end: r.responseEnd, transfer: r.transferSize, encoded: r.encodedBodySize,
  }));
  return {
    nav: { ttfb: nav.responseStart, htmlEnd: nav.responseEnd, domInteractive: nav.domInteractive,
           dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd },
    resources, firstRowAt: window.__firstRowAt, paintedAt: window.__paintedAt,
  };
}
"""


# --- /proc ----------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu(pid: int) -> float:
    """CPU seconds of a process and of its children it has reaped (chromium's renderers, PostgreSQL's backends)."""
    f = _stat(pid)
    return (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / CLK_TCK


def all_pids() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command name)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (int(_stat(int(entry.name))[1]), (entry / "comm").read_text().strip())
            except (OSError, IndexError, ValueError):
                continue
    return found


def descendants(root: int, table: dict[int, tuple[int, str]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _comm) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def cpu_snapshot(groups: dict[str, int | None]) -> dict[str, dict[int, float]]:
    """Per group (a root pid and its descendants; None = the PostgreSQL processes), CPU by pid.

    Groups are disjoint: a root inside another group's tree (the server is this process's child)
    is taken out of that group.
    """
    table = all_pids()
    roots = {root for root in groups.values() if root is not None}
    snap: dict[str, dict[int, float]] = {}
    for name, root in groups.items():
        if root is None:
            pids = {p for p, (_pp, comm) in table.items() if comm in {"postgres", "postmaster"}}
        else:
            pids = {root} | descendants(root, table)
            for other in roots - {root}:
                if other in pids:
                    pids -= {other} | descendants(other, table)
        snap[name] = {}
        for pid in pids:
            try:
                snap[name][pid] = process_cpu(pid)
            except OSError:
                continue
    return snap


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """A process that ended in between shows up in its parent's reaped-children time: subtract its start."""
    return sum(after.values()) - sum(before.values())


def machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLK_TCK


def wait_calm(max_seconds: float, busy_cores: float = 0.6) -> float:
    """Wait (at most max_seconds) for a 3-second window with less than busy_cores in use; returns the last figure."""
    deadline = time.monotonic() + max_seconds
    while True:
        b0, t0 = machine_busy_seconds(), time.monotonic()
        time.sleep(3)
        cores = (machine_busy_seconds() - b0) / (time.monotonic() - t0)
        if cores < busy_cores or time.monotonic() > deadline:
            return round(cores, 2)


# --- build and data -------------------------------------------------------------------------------


def ensure_build() -> str:
    """`npm run build` when dist is missing or older than a source file; returns what was done."""
    sources = [FRONTEND / "index.html", FRONTEND / "package.json", FRONTEND / "vite.config.ts"]
    sources += [p for p in (FRONTEND / "src").rglob("*") if p.is_file() and not p.name.endswith(".test.ts")]
    newest = max(p.stat().st_mtime for p in sources)
    if DIST_INDEX.exists() and DIST_INDEX.stat().st_mtime >= newest:
        return "dist up to date"
    subprocess.run(["npm", "run", "build"], cwd=FRONTEND, check=True, stdout=subprocess.DEVNULL)
    return "built with npm run build"


SUBJECTS = [
    "Double charge on my monthly bill",
    "No signal at home since Monday",
    "Roaming data does not work in Japan",
    "Broadband drops every evening",
    "Please cancel the value-added service I never ordered",
    "Porting my number to your network",
    "5G speed much lower than advertised",
    "Refund for the unused data pack",
    "话费账单有误，请核实",  # noqa: RUF001
    "家里宽带频繁掉线",
]
BODIES = [
    "Hello, I was charged twice this month. Please check and refund the second charge.",
    "Since Monday there is no signal in my flat. Neighbours on the same network have the same problem.",
    "您好，我这个月的话费比平时多了很多，请帮我查一下。",  # noqa: RUF001
    "The connection drops every evening around 8 pm, I have restarted the router many times.",
]
SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu"]
GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Ping", "Xin", "Tao", "Ying"]


def seed(app: Any, tickets: int, seed_value: int = 7) -> dict[str, Any]:
    """One centre and department, one agent in it, `tickets` active tickets with customers and a message each."""
    from flask_migrate import upgrade
    from sqlalchemy import update

    from service_hub.auth.passwords import hash_password
    from service_hub.core.extensions import db
    from service_hub.customers.models import ContactIdentity, Customer, IdentityKind, Tier
    from service_hub.demo.bulk import insert_returning_ids, insert_rows
    from service_hub.org.models import DepartmentKind, Presence
    from service_hub.tickets.models import Channel, Counter, DeliveryStatus, Direction, Message, Priority, Ticket, TicketStatus
    from tests.factories import AgentFactory, DepartmentFactory

    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        centre = DepartmentFactory(kind=DepartmentKind.CENTRE, code="bench", name="Bench centre")
        dept = DepartmentFactory(parent=centre, code="bench-frontline", name="Front line")
        agent = AgentFactory(
            email=AGENT_EMAIL, name="Bench Agent", password_hash=hash_password(BENCH_PASSWORD), departments=[dept], presence=Presence.ONLINE
        )
        customers = max(1, tickets * 6 // 10)  # some customers have more than one open case
        tiers = [Tier.DIAMOND, Tier.GOLD, Tier.SILVER, Tier.VIP, Tier.NORMAL]
        customer_rows = [
            {
                "customer_number": f"C{n:09d}",
                "name": rng.choice(SURNAMES) + " " + rng.choice(GIVEN),
                "language": "zh",
                "tier": rng.choices(tiers, weights=[2, 4, 6, 8, 80])[0],
                "notes": None,
                "attributes": {"plan": "5G Plus"},
                "merged_into_id": None,
                "created_at": now - timedelta(days=rng.uniform(30, 1500)),
                "updated_at": now,
            }
            for n in range(customers)
        ]
        customer_ids = insert_returning_ids(Customer, customer_rows)
        insert_rows(
            ContactIdentity,
            [
                {
                    "customer_id": cid,
                    "kind": IdentityKind.PHONE,
                    "account": "",
                    "value": f"+86138{cid:08d}",
                    "display_value": f"+86 138 {cid:08d}",
                    "verified": True,
                    "created_at": now,
                }
                for cid in customer_ids
            ],
        )
        statuses = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD]
        channels = [Channel.PHONE, Channel.WECHAT, Channel.EMAIL, Channel.SMS, Channel.WEB, Channel.WHATSAPP]
        ticket_rows, drafts = [], []
        for n in range(tickets):
            customer = rng.randrange(customers)
            tier = customer_rows[customer]["tier"]
            created = now - timedelta(hours=rng.expovariate(1 / 40))
            status = rng.choices(statuses, weights=[25, 50, 15, 10])[0]
            priority = rng.choices(list(Priority), weights=[10, 55, 25, 10])[0]
            if tier in {Tier.DIAMOND, Tier.GOLD, Tier.VIP}:
                priority = max(priority, Priority.HIGH)
            first_due = created + timedelta(hours=rng.uniform(0.5, 24))
            resolution_due = created + timedelta(hours=rng.uniform(8, 120))
            ticket_rows.append(
                {
                    "number": 1001 + n,
                    "subject": f"{rng.choice(SUBJECTS)}",
                    "status": status,
                    "priority": priority,
                    "channel": rng.choice(channels),
                    "customer_id": customer_ids[customer],
                    "department_id": dept.id,
                    "assignee_id": agent.id if rng.random() < 0.1 else None,
                    "tier": tier,
                    "first_response_due_at": first_due,
                    "resolution_due_at": resolution_due,
                    "next_due_at": first_due if status == TicketStatus.NEW else resolution_due if status == TicketStatus.OPEN else None,
                    "first_responded_at": None if status == TicketStatus.NEW else created + timedelta(minutes=20),
                    "solved_at": None,
                    "closed_at": None,
                    "custom_fields": {},
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "last_message_at": created,
                }
            )
            drafts.append((customer_ids[customer], created))
        ticket_ids = insert_returning_ids(Ticket, ticket_rows)
        insert_rows(
            Message,
            [
                {
                    "ticket_id": tid,
                    "direction": Direction.INBOUND,
                    "channel": row["channel"],
                    "author_agent_id": None,
                    "author_customer_id": cid,
                    "body_text": rng.choice(BODIES),
                    "body_html": None,
                    "provider_message_id": None,
                    "delivery_status": DeliveryStatus.NONE,
                    "delivery_error": None,
                    "created_at": created,
                }
                for tid, row, (cid, created) in zip(ticket_ids, ticket_rows, drafts, strict=True)
            ],
        )
        db.session.execute(update(Counter).where(Counter.name == "ticket_number").values(value=1000 + tickets))
        db.session.commit()
        ids = {"department": dept.id, "agent": agent.id, "tickets": len(ticket_ids), "customers": len(customer_ids)}
    with app.app_context():
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return ids


# --- the server -----------------------------------------------------------------------------------


# --- one load -------------------------------------------------------------------------------------


def _last(resources: list[dict[str, Any]], test: Any) -> dict[str, Any] | None:
    found = [r for r in resources if test(r["name"])]
    return max(found, key=lambda r: r["end"]) if found else None


def breakdown(timing: dict[str, Any], j_at: float) -> dict[str, Any]:
    """Milliseconds from navigation start of each step of the critical path."""
    res = timing["resources"]
    scripts = [r for r in res if r["name"].split("?")[0].endswith(".js")]
    entry = _last(res, lambda n: "/assets/index-" in n and n.endswith(".js"))
    inbox_chunk = _last(res, lambda n: "/assets/InboxView-" in n and n.endswith(".js"))
    me = _last(res, lambda n: n.split("?")[0].endswith("/api/v1/me"))
    tickets = [r for r in res if "/api/v1/tickets?" in r["name"]]
    first_list = min(tickets, key=lambda r: r["start"]) if tickets else None

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "ttfb": ms(timing["nav"]["ttfb"]),
        "html_end": ms(timing["nav"]["htmlEnd"]),
        "entry_js_end": ms(entry["end"]) if entry else None,
        "dom_content_loaded": ms(timing["nav"]["dcl"]),
        "me_start": ms(me["start"]) if me else None,
        "me_end": ms(me["end"]) if me else None,
        "inbox_chunk_end": ms(inbox_chunk["end"]) if inbox_chunk else None,
        "last_script_end": ms(max(r["end"] for r in scripts)) if scripts else None,
        "tickets_start": ms(first_list["start"]) if first_list else None,
        "tickets_server": ms(first_list["responseStart"] - first_list["requestStart"]) if first_list else None,
        "tickets_end": ms(first_list["end"]) if first_list else None,
        "first_row": ms(timing["firstRowAt"]),
        "painted": ms(timing["paintedAt"]),
        "render_after_tickets": ms(timing["firstRowAt"] - first_list["end"]) if first_list else None,
        "j_selected": ms(j_at),
        "scripts_fetched": len(scripts),
        "scripts_from_network": sum(1 for r in scripts if r["transfer"] > 0),
    }


def load_inbox(page: Any, url: str) -> dict[str, Any]:
    """One navigation to /inbox/all; returns its breakdown (ms since navigation start) and wall time."""
    started = time.perf_counter()
    page.goto(f"{url}/inbox/all", wait_until="commit")
    page.wait_for_function("() => window.__paintedAt !== undefined", polling=5, timeout=30_000)
    wall = (time.perf_counter() - started) * 1000
    # Usable: j moves the selection to the second row.
    second = page.locator("tbody tr[data-ticket-id]").nth(1)
    page.keyboard.press("j")
    second.wait_for(state="attached")
    page.wait_for_function(
        "() => document.querySelectorAll('tbody tr[data-ticket-id]')[1]?.getAttribute('aria-selected') === 'true'", polling=5
    )
    j_at = page.evaluate("() => performance.now()")
    timing = page.evaluate(TIMING_SCRIPT)
    result = breakdown(timing, j_at)
    result["wall_goto_to_painted"] = round(wall, 1)
    return result


def scripts_of(responses: list[Any]) -> list[dict[str, Any]]:
    out = []
    for response in responses:
        path = response.url.split("?")[0]
        if not path.endswith(".js"):
            continue
        body = response.body()
        out.append(
            {
                "url": path.split("/", 3)[-1],
                "raw_bytes": len(body),
                "gzip9_bytes": len(gzip.compress(body, compresslevel=9)),
                "content_encoding": response.headers.get("content-encoding"),
            }
        )
    return out


def dist_totals() -> dict[str, Any]:
    files = sorted((FRONTEND / "dist" / "assets").glob("*.js"))
    raw = sum(f.stat().st_size for f in files)
    gz = sum(len(gzip.compress(f.read_bytes(), compresslevel=9)) for f in files)
    return {"files": len(files), "raw_kb": round(raw / 1024, 1), "gzip9_kb": round(gz / 1024, 1)}


def summarise(loads: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k in loads[0] if isinstance(loads[0][k], int | float) and not k.startswith("scripts")]
    out: dict[str, Any] = {}
    for key in keys:
        values = [load[key] for load in loads if load.get(key) is not None]
        if values:
            out[key] = {"p50": round(statistics.median(values), 1), "p90": round(percentile(values, 90), 1), "max": round(max(values), 1)}
    return out


# --- the run --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--cold", type=int, default=20, help="cold loads (a fresh browser context each)")
    parser.add_argument("--warm", type=int, default=20, help="warm loads (second and later navigations in one context)")
    parser.add_argument("--port", type=int, default=5078)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--calm-wait", type=float, default=60, help="seconds to wait at most for a calm machine before measuring")
    parser.add_argument("--result", default="first_load")
    args = parser.parse_args()

    build = ensure_build()
    print(f"frontend: {build}", flush=True)
    database_url = sqlalchemy_url(args.server_url, DATABASE)
    work = Path(tempfile.mkdtemp(prefix="servicehub-bench-firstload-"))
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "SOCKETIO_CHANNEL": f"servicehub-bench-firstload-{os.getpid()}",
        "SECRET_KEY": BENCH_SECRET_KEY,
        # Plain HTTP on 127.0.0.1 here; production sits behind TLS with Secure cookies.
        "SESSION_COOKIE_SECURE": "false",
        "PORT": str(args.port),
        "LOG_LEVEL": "warning",
        "PYTHONPATH": str(REPO_ROOT),
        "SERVICE_HUB_INSTANCE": str(work),
    }
    from cryptography.fernet import Fernet

    env.setdefault("CHANNEL_SECRET_KEY", Fernet.generate_key().decode())

    t0 = time.monotonic()
    create_database(args.server_url, DATABASE)
    from config.settings import Settings
    from service_hub import create_app

    app = create_app(
        Settings.from_env({"DATABASE_URL": database_url, "SECRET_KEY": BENCH_SECRET_KEY, "LOG_JSON": "false"}, instance_path=work)
    )
    world = seed(app, args.tickets)
    seed_seconds = round(time.monotonic() - t0, 1)
    print(f"database created, migrated and seeded in {seed_seconds} s: {world}", flush=True)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{args.port}"
    server_log = (RESULTS_DIR / f"{args.result}-gunicorn.log").open("w")
    publisher_log = (RESULTS_DIR / f"{args.result}-publisher.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "service_hub.wsgi:app"],
        cwd=REPO_ROOT,
        env=env,
        stdout=server_log,
        stderr=server_log,
    )
    publisher = subprocess.Popen(
        [sys.executable, "-m", "service_hub.realtime.publisher"], cwd=REPO_ROOT, env=env, stdout=publisher_log, stderr=publisher_log
    )
    try:
        wait_http(url, server, path="/readyz")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            login = browser.new_context()
            token = login.request.get(f"{url}/api/v1/auth/csrf").json()["csrf_token"]
            answer = login.request.post(
                f"{url}/api/v1/auth/login", data={"email": AGENT_EMAIL, "password": BENCH_PASSWORD}, headers={"X-CSRFToken": token}
            )
            if not answer.ok:
                raise SystemExit(f"login failed: {answer.status} {answer.text()[:200]}")
            state = login.storage_state()
            login.close()

            def new_context() -> Any:
                context = browser.new_context(storage_state=state, viewport={"width": 1440, "height": 900}, locale="en-US")
                context.add_init_script(MARKER_SCRIPT)
                return context

            errors: list[str] = []

            def watch(page: Any) -> None:
                page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
                page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
                page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

            # One unmeasured load: the server's first requests (imports, connection pool) are not a user's.
            context = new_context()
            page = context.new_page()
            watch(page)
            responses: list[Any] = []
            page.on("response", lambda r: responses.append(r))
            load_inbox(page, url)
            js_first_load = scripts_of(responses)  # the warm-up load was a cold one: every script from the network
            context.close()

            calm = wait_calm(args.calm_wait)
            print(f"machine before measuring: {calm} cores busy", flush=True)
            groups = {"server": server.pid, "publisher": publisher.pid, "bench_and_chromium": os.getpid(), "postgres": None}
            cpu_before = cpu_snapshot(groups)
            busy_before, t_run = machine_busy_seconds(), time.monotonic()

            cold = []
            for n in range(args.cold):
                context = new_context()
                page = context.new_page()
                watch(page)
                cold.append(load_inbox(page, url))
                context.close()
                print(f"cold {n + 1}: first row {cold[-1]['first_row']} ms", flush=True)

            warm = []
            context = new_context()
            page = context.new_page()
            watch(page)
            load_inbox(page, url)  # fills the cache; the measured ones follow
            for n in range(args.warm):
                warm.append(load_inbox(page, url))
                print(f"warm {n + 1}: first row {warm[-1]['first_row']} ms", flush=True)
            context.close()

            window = time.monotonic() - t_run
            busy = machine_busy_seconds() - busy_before
            cpu_after = cpu_snapshot(groups)
            browser.close()
    finally:
        for p in (publisher, server):
            if p.poll() is None:
                p.send_signal(signal.SIGINT if p is server else signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()

    cpu = {name: round(cpu_used(cpu_before[name], cpu_after[name]), 2) for name in groups}
    ours = sum(cpu.values())
    js_total_raw = sum(s["raw_bytes"] for s in js_first_load)
    js_total_gz = sum(s["gzip9_bytes"] for s in js_first_load)
    cold_summary, warm_summary = summarise(cold), summarise(warm)
    result = {
        "provenance": provenance(),
        "machine": machine(),
        "frontend_build": build,
        "data": world,
        "seed_seconds": seed_seconds,
        "settings": {"cold": args.cold, "warm": args.warm, "chromium_args": CHROMIUM_ARGS, "viewport": "1440x900"},
        "targets": {"usable_seconds": TARGET_SECONDS, "first_screen_js_gzip_kb": TARGET_JS_GZIP_KB},
        "cold": cold_summary,
        "warm": warm_summary,
        "cold_loads": cold,
        "warm_loads": warm,
        "first_screen_js": {
            "files": js_first_load,
            "raw_kb": round(js_total_raw / 1024, 1),
            "gzip9_kb": round(js_total_gz / 1024, 1),
            "server_compresses": any(s["content_encoding"] for s in js_first_load),
        },
        "all_chunks": dist_totals(),
        "cpu_seconds": cpu,
        "window_seconds": round(window, 1),
        "machine_busy_cores": round(busy / window, 2),
        "other_processes_cores": round(max(0.0, busy - ours) / window, 2),
        "calm_before": calm,
        "errors": errors[:20],
        "met": {
            "usable_cold_p90": cold_summary["painted"]["p90"] < TARGET_SECONDS * 1000,
            "usable_warm_p90": warm_summary["painted"]["p90"] < TARGET_SECONDS * 1000,
            "js_gzip": js_total_gz / 1024 < TARGET_JS_GZIP_KB,
        },
    }
    path = write_result(args.result, result)
    print(
        json.dumps(
            {
                k: result[k]
                for k in ("cold", "warm", "first_screen_js", "all_chunks", "cpu_seconds", "other_processes_cores", "met", "errors")
            },
            indent=1,
            default=str,
        )
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
