"""Customer 360, the screen-pop on a ringing call and the notifications page, in a real browser."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

from channels.voice.cti import sign
from tests.e2e import world
from tests.e2e.conftest import App


def _ring(app: App, call_id: str, agent_id: int, caller: str = world.LI_NA_PHONE) -> None:
    """A signed CTI 'ringing' for an agent, as the PBX sends it (tests/inbound/test_voice_cti.py)."""
    body = json.dumps(
        {
            "call_id": call_id,
            "type": "ringing",
            "sequence": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "from": caller,
            "agent_id": agent_id,
        }
    ).encode()
    ts = str(int(time.time()))
    request = urllib.request.Request(
        f"{app.url}/hooks/phone/cti/{app.ids['cti_slug']}",
        method="POST",
        data=body,
        headers={"Content-Type": "application/json", "X-CTI-Timestamp": ts, "X-CTI-Signature": sign(world.CTI_SECRET, ts, body)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _api(page: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A call to the API with the page's own session cookie and CSRF token, as the app makes it."""
    base = "/".join(page.url.split("/")[:3])
    token = page.request.get(base + "/api/v1/auth/csrf").json()["csrf_token"]
    response = page.request.fetch(base + path, method=method, data=body, headers={"X-CSRFToken": token})
    assert response.ok, (response.status, response.text())
    return response.json() if response.body() else None


def test_ada_sees_li_nas_identities_value_and_tickets_across_channels(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    session = open_session("ada@example.test")
    page = session.page
    page.goto(f"{e2e_app.url}/customers/{e2e_app.ids['customer']}")
    expect(page.get_by_test_id("customer-name")).to_have_text("Li Na")

    identities = page.get_by_role("region", name="Contact identities")
    expect(identities).to_contain_text(world.LI_NA_PHONE)
    expect(identities).to_contain_text(world.LI_NA_EMAIL)
    expect(identities).to_contain_text(world.LI_NA_WECHAT)
    expect(identities.locator("li[data-kind=whatsapp]")).to_contain_text("WhatsApp")
    expect(identities.locator("li[data-kind=phone]")).to_contain_text("Verified")
    expect(identities.locator("li[data-kind=wechat]")).to_contain_text("Not verified")

    tickets = page.get_by_test_id("customer-tickets")
    expect(tickets).to_contain_text(world.SUBJECT)
    expect(tickets).to_contain_text(world.PAST_SUBJECT)
    expect(tickets).to_contain_text("WeChat")
    expect(tickets).to_contain_text("Closed")
    # The hostile subject is text here too.
    expect(tickets).to_contain_text(world.HOSTILE_SUBJECT)
    assert page.locator("#injected").count() == 0
    expect(page.get_by_test_id("recent-contacts")).to_contain_text("WeChat on #")

    value = page.get_by_test_id("value-breakdown")
    expect(value).to_contain_text(f"Tier set by the rule “{e2e_app.ids['customer_tier_rule']}”")
    expect(value.locator("[data-tier]")).to_have_attribute("data-tier", e2e_app.ids["customer_tier"])
    expect(page.get_by_test_id("segment")).to_have_text("Important value")
    expect(page.get_by_test_id("churn-reasons")).to_contain_text("Spending less: Spent 700 in the last 90 days against 1,100")
    expect(page.get_by_test_id("index-breakdown")).to_contain_text("Current value")

    # In Chinese: the segment's Chinese label.
    page.evaluate("localStorage.setItem('service-hub.locale', 'zh-CN')")
    page.reload()
    expect(page.get_by_test_id("segment")).to_have_text("重要价值客户")

    page.get_by_role("link", name=world.PAST_SUBJECT).click()
    expect(page).to_have_url(f"{e2e_app.url}/tickets/{e2e_app.ids['past_ticket']}")
    session.assert_no_errors()


def test_a_ringing_call_pops_the_callers_card_for_the_agent_within_a_second(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    ada = open_session("ada@example.test")
    bo = open_session("bo@example.test")
    for session in (ada, bo):
        expect(session.page.get_by_test_id("connection-state")).to_have_text("Live")

    _ring(e2e_app, "CA-E2E-POP", e2e_app.ids["ada"])
    rang = time.monotonic()
    card = ada.page.get_by_test_id("screen-pop")
    card.wait_for(state="visible", timeout=5000)
    elapsed = time.monotonic() - rang
    assert elapsed < 1.0, f"the card took {elapsed:.2f} s"
    expect(card.get_by_test_id("screen-pop-name")).to_have_text("Li Na")
    expect(card.locator("[data-tier]")).to_have_attribute("data-tier", e2e_app.ids["customer_tier"])
    expect(card.get_by_test_id("screen-pop-tickets")).to_contain_text(world.SUBJECT)
    expect(card).to_contain_text(f"From {world.LI_NA_PHONE}")
    # The call rang for Ada only.
    time.sleep(0.6)
    expect(bo.page.get_by_test_id("screen-pop")).to_have_count(0)

    card.get_by_role("button", name="Open customer").click()
    expect(ada.page).to_have_url(f"{e2e_app.url}/customers/{e2e_app.ids['customer']}")
    expect(ada.page.get_by_test_id("customer-name")).to_have_text("Li Na")
    expect(ada.page.get_by_test_id("screen-pop")).to_have_count(0)

    # A second call: "Open ticket" goes to the customer's newest open ticket (other tests add some).
    open_tickets = _api(ada.page, "GET", f"/api/v1/tickets?customer_id={e2e_app.ids['customer']}&status=active&limit=100")["items"]
    _ring(e2e_app, "CA-E2E-POP-2", e2e_app.ids["ada"])
    ada.page.get_by_test_id("screen-pop").get_by_role("button", name="Open ticket").click()
    expect(ada.page).to_have_url(f"{e2e_app.url}/tickets/{max(t['id'] for t in open_tickets)}")
    ada.assert_no_errors()
    bo.assert_no_errors()


def test_a_mention_arrives_live_on_the_notifications_page_and_a_click_opens_and_reads_it(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    ada = open_session("ada@example.test")
    bo = open_session("bo@example.test")
    ada.page.get_by_test_id("notifications-button").click()
    expect(ada.page).to_have_url(f"{e2e_app.url}/notifications")
    expect(ada.page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(ada.page.get_by_test_id("connection-state")).to_have_text("Live")

    ticket = e2e_app.ids["ticket"]
    note = _api(
        bo.page,
        "POST",
        f"/api/v1/tickets/{ticket}/messages",
        {"kind": "note", "body_text": f"@[Ada Agent](agent:{e2e_app.ids['ada']}) can you call her back?"},
    )
    number = _api(ada.page, "GET", f"/api/v1/tickets/{ticket}")["number"]
    item = ada.page.get_by_test_id("notifications").locator("li", has_text=f"Bo Colleague mentioned you on ticket #{number}").first
    expect(item).to_be_visible()  # no reload: the notification.created event brought it
    expect(item).to_have_attribute("data-unread", "true")
    assert note["id"]

    item.get_by_role("link").click()
    expect(ada.page).to_have_url(f"{e2e_app.url}/tickets/{ticket}")
    deadline = time.monotonic() + 5
    while _api(ada.page, "GET", "/api/v1/notifications/unread-count")["unread_count"] != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _api(ada.page, "GET", "/api/v1/notifications/unread-count")["unread_count"] == 0
    ada.assert_no_errors()
    bo.assert_no_errors()
