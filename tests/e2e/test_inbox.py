"""The agent's inbox in a real browser: saved views in priority order, text-only subjects, paging,
filters in the URL, a new inbound SMS arriving live without reload, and the keyboard shortcuts."""

from __future__ import annotations

import os
import re
from typing import Any

from tests.e2e import world
from tests.e2e.conftest import App

RANK = {"Urgent": 4, "High": 3, "Normal": 2, "Low": 1}
LOAD_MS = 15_000  # a page of the list on a busy 2-core machine


def _subjects(page: Any) -> list[str]:
    return page.locator("tbody td.subject").all_inner_texts()


def _priorities(page: Any) -> list[str]:
    return page.locator("tbody tr td:nth-child(6)").all_inner_texts()


def test_inbox_views_order_paging_filters_live_sms_and_keys(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    session = open_session("ada@example.test")
    page = session.page
    page.goto(e2e_app.url + "/inbox/all")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(25, timeout=LOAD_MS)  # one page
    expect(page.get_by_role("link", name="All open")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("grid")).to_be_visible()

    # Priority order, as the server sorts: the urgent Bangkok ticket before the high one, lows last.
    subjects = _subjects(page)
    assert world.SUBJECT in subjects and world.HOSTILE_SUBJECT in subjects
    assert subjects.index(world.SUBJECT) < subjects.index(world.HOSTILE_SUBJECT) < subjects.index("Routine question 0")
    ranks = [RANK[p] for p in _priorities(page)]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] == 4
    # Markup in a subject is shown as its text, never parsed.
    expect(page.get_by_text(world.HOSTILE_SUBJECT, exact=True)).to_be_visible()
    expect(page.locator("#injected")).to_have_count(0)
    expect(page.get_by_test_id("inbox-count")).to_have_text("25 shown, more to load")

    # Keyset paging: the next page follows without repeats.
    page.get_by_role("button", name="Load more").click()
    expect(rows).not_to_have_count(25)
    after = _subjects(page)
    assert len(after) > 25 and len(set(page.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.ticketId)"))) == len(after)
    assert sum(1 for s in after if s.startswith("Routine question ")) == world.OTHER_TICKETS

    # "Mine": only Ada's own, the Bangkok ticket first.
    page.get_by_role("link", name="Mine").click()
    expect(page).to_have_url(e2e_app.url + "/inbox/mine")
    expect(page.locator("tbody td.subject").first).to_have_text(world.SUBJECT)
    assert set(page.locator("tbody td.assignee").all_inner_texts()) == {"Ada Agent"}

    # Filters live in the URL: search text, then a priority chosen in its select.
    page.goto(e2e_app.url + "/inbox/all")
    expect(rows).to_have_count(25, timeout=LOAD_MS)
    page.get_by_role("searchbox", name="Search tickets").fill("Bangkok")
    expect(page).to_have_url(re.compile(r"/inbox/all\?q=Bangkok$"))
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.subject")).to_have_text(world.SUBJECT)
    page.get_by_role("button", name="Clear filters").click()
    expect(rows).to_have_count(25, timeout=LOAD_MS)
    page.get_by_role("combobox", name="Priority").click()
    page.get_by_role("listbox", name="Priority").get_by_role("option", name="Low").click()
    expect(page).to_have_url(re.compile(r"/inbox/all\?priority=low$"))
    expect(page.locator("tbody tr td:nth-child(6)", has_text="High")).to_have_count(0)
    assert set(_priorities(page)) == {"Low"}

    # A customer texts in: the new ticket appears in the open list without a reload.
    page.goto(e2e_app.url + "/inbox/all?sort=-created")
    expect(rows).to_have_count(25, timeout=LOAD_MS)
    expect(page.get_by_test_id("connection-state")).to_have_text("Live")
    page.evaluate("window.__sameDocument = true")
    body = f"My eSIM will not activate {os.urandom(3).hex()}"
    assert e2e_app.inbound_sms(body, sender=f"+86139{int.from_bytes(os.urandom(3)) % 10**8:08d}") == 200
    expect(page.locator("tbody td.subject").first).to_have_text(body, timeout=5_000)
    assert page.evaluate("window.__sameDocument") is True

    # The selection stayed on the ticket it was on (now second); a click selects the new one.
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    rows.nth(0).locator("td.number").click()
    expect(rows.nth(0)).to_have_attribute("aria-selected", "true")
    first_id = rows.nth(0).get_attribute("data-ticket-id")

    # Keys: j moves down twice, k back up once, o opens the selected ticket.
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    expect(rows.nth(1)).to_be_focused()
    second_id = rows.nth(1).get_attribute("data-ticket-id")
    assert second_id and second_id != first_id
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_contain_text("Assign the selected ticket to me")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    session.assert_no_errors()
    page.keyboard.press("o")
    expect(page).to_have_url(e2e_app.url + f"/tickets/{second_id}")
    session.assert_no_errors()
