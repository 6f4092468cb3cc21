"""The issue's end-to-end story, told through the UI in four browser contexts open at once.

Ada (agent, front line) sees a customer's SMS arrive in her inbox without reload and opens the case
with the keyboard, replies by SMS (the provider receives it; its delivery report moves the state on
her screen), writes a note mentioning Bo, who has the case open and sees it arrive with his bell
counting it, and dispatches the case to the billing back office, where Cy's board shows it and he
signs for it while Ada watches the step change. Sue, on the supervisor dashboard, sees the case's
SLA warning arrive when the escalation pass runs. Nobody reloads a page.

The case is the SMS complaint seeded by world._seed_scenario: a new SMS opens a general enquiry,
whose workflow has no dispatch, so the customer writes on their open SMS complaint instead, which
the front line (also the dispatcher here) sends on.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from tests.e2e import world
from tests.e2e.conftest import App, Session

LOAD_MS = 15_000  # a page of the list on a busy 2-core machine


def api(app: App, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """The API as Sue, with her bearer token: only to leave the shared world as the next tests expect it."""
    request = urllib.request.Request(
        app.url + "/api/v1" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {app.ids['sue_token']}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def sms_status(app: App, provider_sid: str, status: str) -> int:
    """The provider's delivery report, as Twilio posts it to the account's status URL, signed."""
    path = f"/hooks/sms/twilio/{app.ids['sms_slug']}/status"
    fields = {"MessageSid": provider_sid, "MessageStatus": status, "AccountSid": world.SMS_SID}
    signature = RequestValidator(world.SMS_TOKEN).compute_signature("http://localhost" + path, fields)
    request = urllib.request.Request(
        app.url + path,
        data=urlencode(fields).encode(),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def provider_sends(app: App, body: str, timeout: float = 15.0) -> list[Any]:
    """The sends the provider's API received with this text (the send runs after the request returns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sends = [r for r in app.provider.requests if r.method == "POST" and r.form.get("Body") == body]
        if sends:
            return sends
        time.sleep(0.2)
    return []


def warn_now(app: App, ticket_id: int) -> None:
    """The case's running resolution clock passes its warning now (due in 30 minutes); then one
    escalation pass, run as the scheduler runs it: `flask sla-escalate` against the served database."""
    from service_hub.casework.models import SlaClock

    clocks = SlaClock.__table__
    now = datetime.now(UTC)
    with app.served.engine.begin() as conn:
        clock_id = conn.execute(
            sa.select(clocks.c.id).where(clocks.c.ticket_id == ticket_id, clocks.c.kind == "resolution", clocks.c.status == "running")
        ).scalar_one()
        conn.execute(
            sa.update(clocks).where(clocks.c.id == clock_id).values(warn_at=now - timedelta(seconds=1), due_at=now + timedelta(minutes=30))
        )
    result = app.flask("sla-escalate")
    assert re.search(r"'warned': [1-9]", result.stdout), result.stdout


def unread(session: Session, url: str) -> int:
    return int(session.page.request.get(f"{url}/api/v1/notifications/unread-count").json()["unread_count"])


def test_the_issue_story_sms_reply_note_dispatch_sign_for_and_sla_warning_live(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    ids = e2e_app.ids
    ticket_id, number = ids["sc_ticket"], ids["sc_number"]
    ada = open_session("ada@example.test", path="/inbox/all?sort=updated")
    bo = open_session("bo@example.test")
    cy = open_session("cy@example.test", path="/board")
    sue = open_session("sue@example.test", path="/supervisor")
    sessions = (ada, bo, cy, sue)
    for session in sessions:
        session.page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page
    page = ada.page

    # 1. The customer texts while Ada looks at her inbox by last activity: their case, three days quiet
    #    and so not on the first page, comes to the top without a reload; Ada opens it with the keyboard.
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(25, timeout=LOAD_MS)
    expect(page.get_by_test_id("connection-state")).to_have_text("Live")
    case_row = page.locator(f"tbody tr[data-ticket-id='{ticket_id}']")
    expect(case_row).to_have_count(0)
    sms = f"You billed me again today, ref {os.urandom(3).hex()}"
    assert e2e_app.inbound_sms(sms, sender=world.SCENARIO_PHONE) == 200
    expect(rows.first).to_have_attribute("data-ticket-id", str(ticket_id), timeout=5_000)
    expect(rows.first.locator("td.subject")).to_have_text(world.SCENARIO_SUBJECT)
    page.keyboard.press("k")  # the selection stayed on the row it was on, now second
    expect(rows.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{e2e_app.url}/tickets/{ticket_id}")
    expect(page.get_by_test_id("case-subject")).to_have_text(world.SCENARIO_SUBJECT)
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text(sms)
    header = page.locator(".case-header")
    expect(header).to_contain_text("Dispatch 派单")

    # Bo opens the same case in his browser; each sees the other viewing.
    bo.page.goto(f"{e2e_app.url}/tickets/{ticket_id}")
    expect(bo.page.get_by_test_id("case-subject")).to_have_text(world.SCENARIO_SUBJECT)
    expect(page.get_by_test_id("viewers")).to_have_text("Bo Colleague")
    bo.page.evaluate("window.__sameDocument = true")

    # 2. Ada replies through the case's channel: the provider's API receives the SMS, the reply shows
    #    as sent, and the provider's delivery report turns it to delivered on her screen.
    expect(page.get_by_test_id("reply-destination")).to_contain_text(f"Reply via SMS to Wang Fang ({world.SCENARIO_PHONE})")
    provider_sid = "SM" + os.urandom(16).hex()
    e2e_app.provider.answers.append((201, {"sid": provider_sid, "status": "queued"}))  # the next send's answer
    reply_text = "We refund the second charge within 3 days; sorry for the trouble."
    page.get_by_test_id("reply-box").fill(reply_text)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="Reply sent.")).to_be_visible()
    sends = provider_sends(e2e_app, reply_text)
    assert len(sends) == 1, [r.form for r in e2e_app.provider.requests]
    assert sends[0].form["To"] == world.SCENARIO_PHONE and sends[0].form["From"] == world.OUR_NUMBER
    assert sends[0].path.endswith(f"/Accounts/{world.SMS_SID}/Messages.json")
    sent = page.locator("[data-kind='message'].outbound").filter(has_text=reply_text)
    expect(sent.get_by_test_id("delivery-status")).to_have_text("Sent")  # the provider took it
    assert sms_status(e2e_app, provider_sid, "delivered") in (200, 204)
    expect(sent.get_by_test_id("delivery-status")).to_have_text("Delivered")
    # Bo's open case shows the reply too.
    expect(bo.page.locator("[data-kind='message'].outbound").filter(has_text=reply_text)).to_be_visible()

    # 3. A note mentioning Bo through the completion list: Bo sees it arrive and his bell counts it.
    bell_before = unread(bo, e2e_app.url)
    page.locator(".composer").get_by_text("Internal note", exact=True).click()
    note = page.get_by_test_id("note-box")
    expect(note).to_be_focused()
    note.press_sequentially("Refund approved by billing? @Bo")
    expect(page.get_by_role("option", name=re.compile("Bo Colleague"))).to_be_visible()
    note.press("Enter")
    expect(note).to_have_value(f"Refund approved by billing? @[Bo Colleague](agent:{ids['bo']}) ")
    note.press_sequentially("She was charged twice.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status").filter(has_text="Note added.")).to_be_visible()
    bo_note = bo.page.locator("[data-kind='note']").filter(has_text="She was charged twice.")
    expect(bo_note).to_be_visible()
    expect(bo_note).to_contain_text("Internal note by Ada Agent")
    expect(bo_note.locator(f"[data-mention='agent:{ids['bo']}']")).to_have_text("@Bo Colleague")
    expect(bo.page.get_by_test_id("notifications-button")).to_have_accessible_name(f"Notifications ({bell_before + 1})")

    # 4. Ada dispatches the case to the back office from the workflow actions; Cy's board shows it
    #    arrive, he signs for it, and Ada's case view follows the step.
    board_card = cy.page.get_by_test_id(f"board-card-{ticket_id}")
    expect(cy.page.get_by_role("heading", name="Department board")).to_be_visible()
    expect(board_card).to_have_count(0)
    page.get_by_role("region", name="Workflow actions").get_by_role("button", name="Dispatch 派单").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Department").click()
    page.locator(".n-base-select-option", has_text="Billing back office").click()
    dialog.get_by_role("button", name="Dispatch 派单").click()
    expect(dialog).to_be_hidden()
    expect(header).to_contain_text("Sign for 签收")
    expect(header).to_contain_text("Billing back office")

    expect(board_card).to_be_visible()
    expect(board_card).to_contain_text(f"#{number}")
    expect(board_card).to_contain_text("From Front line")
    expect(board_card.get_by_test_id("board-state")).to_have_text("Awaiting sign-for")
    board_card.get_by_role("button", name="Sign for").click()
    expect(board_card.get_by_test_id("board-state")).to_have_text("Signed for")
    expect(header).to_contain_text("Handle 办理")  # on Ada's screen, live
    expect(timeline.locator("[data-kind='workflow_step']").filter(has_text="Workflow: acknowledge (acknowledge → handle)")).to_have_count(1)

    # 5. The case's SLA warning arrives on Sue's dashboard (and in Ada's timeline) when the
    #    escalation pass runs.
    expect(sue.page.get_by_role("heading", name="Supervisor dashboard")).to_be_visible()
    risk_row = sue.page.locator(f"[data-testid='risk-list'] tr[data-ticket-id='{ticket_id}']")
    expect(risk_row).to_have_count(0)
    warn_now(e2e_app, ticket_id)
    expect(risk_row).to_be_visible()
    expect(risk_row.get_by_role("link", name=f"Open case #{number}")).to_have_attribute("href", f"/tickets/{ticket_id}")
    expect(risk_row).to_contain_text("Resolution")
    expect(timeline.locator("[data-kind='sla']").filter(has_text="SLA Resolution: warning")).to_be_visible()

    # 6. Nobody reloaded, and no page logged an error.
    for session in sessions:
        assert session.page.evaluate("window.__sameDocument") is True
        session.assert_no_errors()

    # Leave the shared world as the next tests expect it: the back office's board empty again (the
    # department finishes handling and replies; the case goes to the dispatcher's review).
    status, case = api(e2e_app, "GET", f"/tickets/{ticket_id}/case")
    assert status == 200 and case["step"] == "handle", case
    for action, inputs in (
        ("complete_handling", {"handling_result": "Second charge refunded"}),
        ("submit_reply", {"reply_text": "Refunded"}),
    ):
        status, case = api(
            e2e_app, "POST", f"/tickets/{ticket_id}/case/actions", {"action": action, "version": case["version"], "inputs": inputs}
        )
        assert status == 200, case
    expect(board_card).to_have_count(0)
    cy.assert_no_errors()
