"""Canned responses in a real browser: the admin writes one for Front line in the admin screen, Ada
picks it in the Bangkok case's reply box, where it arrives filled for that case, and sends it."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import App

BODY = "Dear {{customer.name}}, about case #{{ticket.number}}: roaming is working again. {{agent.name}}, {{department.name}}"


def test_an_admin_writes_a_canned_response_and_an_agent_replies_with_it(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    title = f"Roaming restored {time.time_ns()}"
    root = open_session("root@example.test")
    admin = root.page
    admin.goto(f"{e2e_app.url}/admin/canned")
    expect(admin.get_by_role("link", name="Canned responses")).to_have_attribute("aria-current", "page")
    admin.locator("#canned-title").fill(title)
    admin.locator("#canned-shortcut").fill("/roaming-ok")
    admin.get_by_label("Offered to").select_option(str(e2e_app.ids["front"]))
    admin.locator("#canned-body").fill(BODY)
    admin.get_by_role("button", name="Create").click()
    expect(admin.get_by_role("status").filter(has_text=f"Created {title}.")).to_be_visible()
    expect(admin.get_by_role("row").filter(has_text=title)).to_contain_text("Front line")
    root.assert_no_errors()

    ada = open_session("ada@example.test")
    page = ada.page
    ticket_id = e2e_app.ids["ticket"]
    ticket = page.request.get(f"{e2e_app.url}/api/v1/tickets/{ticket_id}").json()
    page.goto(f"{e2e_app.url}/tickets/{ticket_id}?compose=reply")
    reply = page.get_by_test_id("reply-box")
    expect(reply).to_be_focused()
    reply.fill("Hello,\n\nBest regards")
    reply.evaluate("box => box.setSelectionRange(7, 7)")  # the caret on the empty line

    page.get_by_role("button", name="Canned response").click()
    search = page.get_by_role("combobox", name="Search canned responses")
    expect(search).to_be_focused()
    search.press_sequentially("roaming is working")
    option = page.get_by_role("option").filter(has_text=title)
    expect(option).to_be_visible()
    expect(option).to_contain_text("/roaming-ok")
    search.press("Enter")

    rendered = f"Dear {ticket['customer']['name']}, about case #{ticket['number']}: roaming is working again. Ada Agent, Front line"
    expect(reply).to_have_value(f"Hello,\n{rendered}\nBest regards")
    expect(reply).to_be_focused()

    # The shortcut route: "/" at the start of an empty reply lists shortcuts; Enter takes the first.
    reply.fill("")
    reply.press_sequentially("/roaming-o")
    expect(page.get_by_role("option").filter(has_text=title)).to_be_visible()
    reply.press("Enter")
    expect(reply).to_have_value(rendered)

    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="Reply sent.")).to_be_visible()
    expect(page.locator("[data-kind='message'].outbound").filter(has_text=rendered)).to_be_visible()
    ada.assert_no_errors()
