"""Logging in and out of the browser app, in both languages, and deep links."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import App, login


def test_wrong_password_then_login_logout_and_the_session_is_gone(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    session = open_session()
    page = session.page
    expect(page.locator("#login-email")).to_be_visible()
    page.locator("#login-email").fill("ada@example.test")
    page.locator("#login-password").fill("not the password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong email or password.")

    login(page, "ada@example.test")
    expect(page.get_by_test_id("whoami")).to_contain_text("Ada Agent")
    expect(page).to_have_url(e2e_app.url + "/inbox")
    expect(page.get_by_test_id("connection-state")).to_have_text("Live")
    # An agent sees no supervisor or admin navigation.
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)

    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#login-email")).to_be_visible()
    page.reload()
    expect(page.locator("#login-email")).to_be_visible()  # the session cookie is really gone
    session.assert_no_errors()


def test_chinese_is_the_default_for_a_chinese_browser_and_errors_are_translated(open_session: Any) -> None:
    from playwright.sync_api import expect

    session = open_session(locale="zh-CN")
    page = session.page
    expect(page.get_by_test_id("login-submit")).to_have_text("登录")
    page.locator("#login-email").fill("ada@example.test")
    page.locator("#login-password").fill("wrong")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("邮箱或密码错误。")
    session.assert_no_errors()


def test_a_deep_link_survives_the_login(open_session: Any, e2e_app: App) -> None:
    from playwright.sync_api import expect

    session = open_session(path="/inbox/unassigned")
    page = session.page
    expect(page).to_have_url(e2e_app.url + "/login?next=/inbox/unassigned")
    login(page, "ada@example.test")
    expect(page).to_have_url(e2e_app.url + "/inbox/unassigned")
    # An unknown API path stays a 404 from the API, not the app's page.
    assert page.request.get(e2e_app.url + "/api/v1/no-such-thing").status == 404
    session.assert_no_errors()
