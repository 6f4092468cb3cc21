"""The supervisor dashboard and the department board in a real browser against a real server.

Sue watches the centre: the Front line queue's size, an SLA warning arriving live in the risk list
(the escalation pass run as `flask sla-escalate`, as the scheduler runs it), and a reassignment from
the risk list. Cy's board receives a complaint dispatched to the back office live and signs for it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tests.e2e.conftest import App


def api(app: App, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """The API as Sue, with her bearer token (no browser involved)."""
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


def bring_warning_forward(app: App) -> None:
    """The risk ticket's clock passes its warning now (due in 10 minutes); then one escalation pass."""
    from service_hub.casework.models import SlaClock

    now = datetime.now(UTC)
    with app.served.engine.begin() as conn:
        conn.execute(
            sa.update(SlaClock.__table__)
            .where(SlaClock.__table__.c.id == app.ids["sv_risk_clock"])
            .values(warn_at=now - timedelta(seconds=1), due_at=now + timedelta(minutes=10))
        )
    result = app.flask("sla-escalate")
    assert "'warned': 1" in result.stdout, result.stdout


def test_supervisor_sees_queues_and_a_warning_live_and_reassigns_from_the_risk_list(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    ids = e2e_app.ids
    session = open_session("sue@example.test", path="/supervisor")
    page = session.page
    expect(page.get_by_role("heading", name="Supervisor dashboard")).to_be_visible()

    # The Front line queue shows as many waiting tickets as the queue API counts.
    status, queue = api(e2e_app, "GET", f"/departments/{ids['front']}/queue?limit=1")
    assert status == 200, queue
    row = page.get_by_test_id("queue-table").locator(f"tr[data-department-id='{ids['front']}']")
    expect(row.get_by_role("rowheader")).to_have_text("Front line")
    expect(row.get_by_test_id("queue-waiting")).to_have_text(str(queue["total_waiting"]))

    # The warning arrives without a reload: the snapshot pushed after the sla.warning event.
    risk_row = page.locator(f"[data-testid='risk-list'] tr[data-ticket-id='{ids['sv_risk_ticket']}']")
    expect(risk_row).to_have_count(0)
    bring_warning_forward(e2e_app)
    expect(risk_row).to_be_visible()
    expect(risk_row.get_by_role("link", name=f"Open case #{ids['sv_risk_number']}")).to_have_attribute(
        "href", f"/tickets/{ids['sv_risk_ticket']}"
    )
    expect(risk_row).to_contain_text("Resolution")
    expect(risk_row.locator(".sla-badge")).to_have_attribute("data-risk", "critical")

    # Reassign it from the dashboard to Cy, who sits in the back office: the case moves there with him.
    risk_row.get_by_role("button", name=f"Reassign case #{ids['sv_risk_number']}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("reassign-agent").click()
    page.locator(".n-base-select-option", has_text="Cy Backoffice").click()
    dialog.get_by_label("Reason").fill("Billing question; the back office answers it")
    dialog.get_by_role("button", name="Reassign").click()
    expect(page.get_by_text(f"Case #{ids['sv_risk_number']} reassigned.")).to_be_visible()
    expect(dialog).to_be_hidden()
    status, ticket = api(e2e_app, "GET", f"/tickets/{ids['sv_risk_ticket']}")
    assert status == 200, ticket
    assert ticket["assignee"]["id"] == ids["cy"] and ticket["department"]["id"] == ids["back"], ticket
    session.assert_no_errors()


def test_back_office_board_receives_a_dispatched_complaint_live_and_signs_for_it(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    ids = e2e_app.ids
    session = open_session("cy@example.test", path="/board")
    page = session.page
    expect(page.get_by_role("heading", name="Department board")).to_be_visible()
    card = page.get_by_test_id(f"board-card-{ids['sv_complaint']}")
    expect(page.get_by_text("Nothing awaits this department.")).to_be_visible()

    # Dispatched to the back office through the API while Cy looks at the board.
    status, case = api(e2e_app, "GET", f"/tickets/{ids['sv_complaint']}/case")
    assert status == 200 and case["step"] == "dispatch", case
    body = {"action": "dispatch", "version": case["version"], "inputs": {"department": ids["back"]}}
    status, case = api(e2e_app, "POST", f"/tickets/{ids['sv_complaint']}/case/actions", body)
    assert status == 200 and case["step"] == "acknowledge", case

    expect(card).to_be_visible()
    expect(card).to_contain_text(f"#{ids['sv_complaint_number']}")
    expect(card).to_contain_text("From Front line")
    expect(card.get_by_test_id("board-state")).to_have_text("Awaiting sign-for")
    expect(card.locator(".sla-badge")).to_be_visible()

    card.get_by_role("button", name="Sign for").click()
    expect(card.get_by_test_id("board-state")).to_have_text("Signed for")
    expect(card.get_by_role("button", name="Request extension")).to_be_visible()
    status, case = api(e2e_app, "GET", f"/tickets/{ids['sv_complaint']}/case")
    assert status == 200 and case["step"] == "handle", case
    session.assert_no_errors()
