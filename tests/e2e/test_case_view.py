"""The case view in a real browser: the timeline, a note with an @mention seen live by the colleague
(with a notification), a reply through the SMS channel reaching the provider, and presence."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.e2e import world
from tests.e2e.conftest import App

SMS_SENDER = "+8613900139001"  # not world.CUSTOMER_PHONE: another test may hold an open SMS ticket for that one


def _unread(page: Any, url: str) -> int:
    return int(page.request.get(f"{url}/api/v1/notifications/unread-count").json()["unread_count"])


def test_a_note_mentioning_a_colleague_arrives_live_and_notifies_them(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    ticket_id = e2e_app.ids["ticket"]
    bo = open_session("bo@example.test")
    bo.page.goto(f"{e2e_app.url}/tickets/{ticket_id}")
    expect(bo.page.get_by_test_id("case-subject")).to_have_text(world.SUBJECT)
    unread_before = _unread(bo.page, e2e_app.url)

    ada = open_session("ada@example.test")
    page = ada.page
    page.goto(f"{e2e_app.url}/tickets/{ticket_id}?compose=note")
    expect(page.get_by_test_id("case-subject")).to_have_text(world.SUBJECT)
    # The customer's message, as text: the angle brackets are shown, not parsed.
    expect(page.get_by_test_id("timeline")).to_contain_text("Since this morning my phone says <no service> abroad.")

    # Presence: each sees the other viewing.
    expect(page.get_by_test_id("viewers")).to_have_text("Bo Colleague")
    expect(bo.page.get_by_test_id("viewers")).to_have_text("Ada Agent")

    # A note mentioning Bo through the completion list (the note box is focused by ?compose=note).
    note = page.get_by_test_id("note-box")
    expect(note).to_be_focused()
    note.press_sequentially("Could you call her back? @Bo")
    option = page.get_by_role("option", name=re.compile("Bo Colleague"))
    expect(option).to_be_visible()
    note.press("Enter")
    expect(note).to_have_value(f"Could you call her back? @[Bo Colleague](agent:{e2e_app.ids['bo']}) ")
    note.press_sequentially("She is in Bangkok.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status").filter(has_text="Note added.")).to_be_visible()
    expect(note).to_have_value("")

    # Bo sees it without reloading: a note, with the mention as a chip, and the bell counts it.
    bo_note = bo.page.locator("[data-kind='note']").filter(has_text="She is in Bangkok.")
    expect(bo_note).to_be_visible()
    expect(bo_note).to_contain_text("Internal note by Ada Agent")
    expect(bo_note.locator(f"[data-mention='agent:{e2e_app.ids['bo']}']")).to_have_text("@Bo Colleague")
    expect(bo.page.get_by_test_id("notifications-button")).to_have_accessible_name(f"Notifications ({unread_before + 1})")

    # Ada leaves: Bo no longer sees her viewing.
    page.goto(f"{e2e_app.url}/inbox")
    expect(bo.page.get_by_test_id("viewers")).to_have_count(0)
    ada.assert_no_errors()
    bo.assert_no_errors()


def test_a_reply_on_an_sms_case_goes_out_through_the_provider(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    body = f"My SIM is blocked {time.time_ns()}"
    assert e2e_app.inbound_sms(body, sender=SMS_SENDER) in (200, 204)
    ada = open_session("ada@example.test")
    page = ada.page
    ticket_id = None
    deadline = time.monotonic() + 15
    while ticket_id is None and time.monotonic() < deadline:
        items = page.request.get(
            f"{e2e_app.url}/api/v1/tickets", params={"channel": "sms", "q": "SIM is blocked", "sort": "-created"}
        ).json()["items"]
        ticket_id = items[0]["id"] if items else None
        if ticket_id is None:
            time.sleep(0.3)
    assert ticket_id is not None, "the inbound SMS opened no ticket"

    page.goto(f"{e2e_app.url}/tickets/{ticket_id}?compose=reply")
    expect(page.get_by_test_id("timeline")).to_contain_text(body)
    expect(page.get_by_test_id("reply-destination")).to_contain_text("Reply via SMS to")
    expect(page.get_by_test_id("reply-destination")).to_contain_text(SMS_SENDER)
    reply = page.get_by_test_id("reply-box")
    expect(reply).to_be_focused()
    text = "We unblocked your SIM; please restart the phone."
    reply.fill(text)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="Reply sent.")).to_be_visible()
    # The reply joins the conversation as outbound, and the provider's API received it.
    sent = page.locator("[data-kind='message'].outbound").filter(has_text=text)
    expect(sent).to_be_visible()
    deadline = time.monotonic() + 15
    sends: list[Any] = []
    while not sends and time.monotonic() < deadline:
        sends = [r for r in e2e_app.provider.requests if r.method == "POST" and r.form.get("Body") == text]
        time.sleep(0.2)
    assert sends, [r.form for r in e2e_app.provider.requests]
    assert sends[0].form["To"] == SMS_SENDER
    assert sends[0].form["From"] == world.OUR_NUMBER
    # The delivery status follows live.
    expect(sent.get_by_test_id("delivery-status")).to_have_text(re.compile("Queued|Sent|Delivered"))
    ada.assert_no_errors()
