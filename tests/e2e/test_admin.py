"""The administration screens: root builds the organisation, connects a channel and sends through
it, routes by rule, checks a workflow draft and weighs the value model; an agent cannot get in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import App

ROOT = Path(__file__).resolve().parents[2]


def test_root_administers_departments_channels_routing_workflows_and_the_value_model(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    session = open_session("root@example.test")
    page = session.page
    page.get_by_role("link", name="Administration").click()
    expect(page).to_have_url(e2e_app.url + "/admin/departments")

    # A new department in the centre, shown in the tree under it.
    page.get_by_label("Name").fill("Roaming desk")
    page.get_by_label("Code").fill("roaming")
    page.get_by_label("Kind").select_option(label="Department")
    page.get_by_label("Belongs to").select_option(label="Beijing Centre")
    page.get_by_label("Functions").fill("roaming")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Created Roaming desk.")).to_be_visible()
    expect(page.get_by_role("button", name="Edit Roaming desk")).to_be_visible()
    # The same code again: the API's refusal is shown in words.
    page.get_by_label("Name").fill("Second desk")
    page.get_by_label("Code").fill("roaming")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("form-error")).to_be_visible()

    # A channel account whose provider is the recording server, then a test message through it.
    navigation = page.get_by_role("navigation", name="Administration sections")
    navigation.get_by_role("link", name="Channel accounts").click()
    expect(page.get_by_role("button", name="Edit Hotline SMS")).to_be_visible()
    page.get_by_role("button", name="New channel account").click()
    form = page.get_by_test_id("channel-form")
    form.get_by_label("Kind").select_option("sms.twilio")
    form.get_by_label("Name").fill("Roaming SMS")
    form.get_by_label("Default department").select_option(label="Front line")
    form.get_by_label("Account SID").fill("AC" + "9" * 32)
    form.get_by_label("Auth token").fill("roaming-token")
    form.get_by_label("From number").fill("+14155550199")
    form.get_by_label("Provider API base URL").fill(e2e_app.provider.url)
    form.get_by_label("Public webhook base URL").fill("http://localhost")
    form.get_by_role("button", name="Create").click()
    expect(page.get_by_role("button", name="Edit Roaming SMS")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Roaming SMS")
    expect(row).to_contain_text("SMS (Twilio)")
    expect(row).to_contain_text("http://localhost/hooks/sms/twilio/")
    sent_before = len(e2e_app.provider.requests)
    page.get_by_role("button", name="Send a test message through Roaming SMS").click()
    test_form = page.get_by_role("form", name="Send a test message through Roaming SMS")
    test_form.get_by_label("To").fill("+8613900139000")
    test_form.get_by_label("Text").fill("Service Hub test 42")
    test_form.get_by_role("button", name="Send test message").click()
    expect(page.get_by_test_id("test-result")).to_contain_text("Sent: the provider answered")
    sends = e2e_app.provider.requests[sent_before:]
    assert [(r.form["To"], r.form["From"], r.form["Body"]) for r in sends] == [("+8613900139000", "+14155550199", "Service Hub test 42")]
    assert sends[0].path.endswith(f"/Accounts/AC{'9' * 32}/Messages.json")

    # Routing: a rule with conditions needs a default rule after it; dry-run a sample ticket.
    navigation.get_by_role("link", name="Routing rules").click()
    expect(page.get_by_text("No rules: the built-in default")).to_be_visible()
    add_rule(page, "Everything to front line", None, "Front line")
    add_rule(page, "Invoices to billing", "invoice, 发票", "Billing back office")
    expect(page.locator("ol.rules > li").first).to_contain_text("1. Invoices to billing")
    page.get_by_label("Subject").fill("My invoice is wrong")
    page.get_by_role("button", name="Dry run").click()
    result = page.get_by_test_id("dry-run-result")
    expect(result).to_contain_text("Matched rule: Invoices to billing")
    expect(result).to_contain_text("Goes to Billing back office")
    # Moving the default rule first is refused in words: nothing after it could ever match.
    page.get_by_role("button", name="Move Everything to front line up").click()
    expect(page.locator("p.error-text[role=alert]")).to_contain_text("Some fields need attention")
    # Leave routing as the other browser tests expect it: the built-in default.
    for name in ("Invoices to billing", "Everything to front line"):
        page.get_by_role("button", name=f"Delete {name}").click()
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_text(f"Deleted {name}.")).to_be_visible()
    expect(page.get_by_text("No rules: the built-in default")).to_be_visible()

    # A broken workflow draft, loaded from a file: the problem is shown with its line, in words.
    navigation.get_by_role("link", name="Workflows").click()
    page.get_by_role("button", name="View General enquiry").click()
    expect(page.get_by_role("heading", name="General enquiry (v1)")).to_be_visible()
    shipped = (ROOT / "workflows" / "definitions" / "general_enquiry.yaml").read_text(encoding="utf-8")
    broken = shipped.replace("initial_step: intake", "initial_step: reception")
    page.get_by_label("Load a .yaml file").set_input_files(
        files=[{"name": "broken.yaml", "mimeType": "text/yaml", "buffer": broken.encode()}]
    )
    validation = page.get_by_test_id("workflow-validation")
    expect(validation).to_contain_text("Not valid: 1 problem(s).")
    expect(validation).to_contain_text("Line 10: 'initial_step' is an unknown step 'reception'")

    # The AHP matrix: an inconsistent judgement is refused with its CR; a consistent one shows its CR.
    navigation.get_by_role("link", name="Customer value").click()
    expect(page.get_by_test_id("cr-criteria")).to_have_text(re.compile(r"^CR = 0\.0\d\d$"))
    judgement = page.get_by_label("How much more important Current value is than Relationship")
    expect(page.get_by_label("How much more important Current value is than Potential")).to_have_value("2")
    judgement.select_option(label="1/9")
    refusal = page.get_by_test_id("value-refused")
    expect(refusal).to_contain_text("is not below 0.1")
    expect(refusal).to_contain_text(re.compile(r"CR = \d+\.\d{3} is not below 0\.1"))
    expect(page.get_by_test_id("cr-criteria")).to_have_text(re.compile(r"^CR = \d+\.\d{3} ≥ 0\.1$"))
    judgement.select_option(label="5")
    expect(page.get_by_test_id("cr-criteria")).to_have_text(re.compile(r"^CR = 0\.0\d\d$"))
    expect(refusal).to_have_count(0)
    session.assert_no_errors()


def add_rule(page: Any, name: str, keywords: str | None, department: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Add rule").first.click()
    page.locator("#rule-name").fill(name)
    if keywords:
        page.get_by_label("Any of these keywords").fill(keywords)
    page.locator("#rule-department").select_option(label=department)
    page.locator("form").filter(has=page.locator("#rule-name")).get_by_role("button", name="Add rule").click()
    expect(page.get_by_text(f"Saved {name}.")).to_be_visible()


def test_an_agent_cannot_reach_the_administration(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    session = open_session("ada@example.test")
    page = session.page
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    page.goto(e2e_app.url + "/admin/channels")
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.get_by_role("heading", name="Channel accounts")).to_have_count(0)
    # The API refuses too, whatever the page does.
    assert page.request.get(e2e_app.url + "/api/v1/channel-accounts").status == 403
    session.assert_no_errors()
