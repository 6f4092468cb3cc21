"""Admins manage channel accounts: write-only credentials, validated settings, the test message."""

from __future__ import annotations

from tests.inbound.conftest import SID, TOKEN


def _create(admin, world, **overrides):  # type: ignore[no-untyped-def]
    body = {
        "kind": "sms.twilio",
        "name": "Second number",
        "default_department_id": world.dept_a.id,
        "credentials": {"account_sid": SID, "auth_token": TOKEN},
        "settings": {"from_number": "+14155550199"},
    } | overrides
    return admin.post("/api/v1/channel-accounts", json=body)


def test_only_admins_manage_channel_accounts(world, login_as):
    agent = login_as(world.agent_a)
    assert agent.get("/api/v1/channel-accounts").status_code == 403
    assert _create(agent, world).status_code == 403


def test_create_validates_kind_credentials_settings_and_department(world, login_as):
    admin = login_as(world.admin)
    assert _create(admin, world, kind="sms.nobody").status_code == 422
    assert _create(admin, world, credentials={"account_sid": SID}).status_code == 422
    assert _create(admin, world, credentials={"account_sid": SID, "auth_token": TOKEN, "x": "y"}).status_code == 422
    assert _create(admin, world, settings={"colour": "blue"}).status_code == 422
    assert _create(admin, world, settings={"api_base_url": "file:///etc/passwd"}).status_code == 422
    assert _create(admin, world, default_department_id=999999).status_code == 422
    created = _create(admin, world)
    assert created.status_code == 201
    assert created.json["webhook_urls"]["message"] == f"/hooks/sms/twilio/{created.json['slug']}"
    assert "credentials" not in created.json and TOKEN not in created.get_data(as_text=True)


def test_private_provider_urls_are_refused_unless_allowed(world, login_as, channel_settings):
    channel_settings(allow_private_urls=False)
    admin = login_as(world.admin)
    refused = _create(admin, world, settings={"api_base_url": "http://127.0.0.1:8080"})
    assert refused.status_code == 422 and "private" in refused.json["detail"]
    assert _create(admin, world, settings={"api_base_url": "http://169.254.169.254"}).status_code == 422


def test_update_replaces_some_credentials_and_deactivate_keeps_history(sms):
    account_id = sms.account["id"]
    changed = sms.admin.patch(
        f"/api/v1/channel-accounts/{account_id}", json={"name": "Renamed", "credentials": {"auth_token": "new-token"}}
    )
    assert changed.status_code == 200 and changed.json["name"] == "Renamed"
    assert changed.json["credentials_set"] == ["account_sid", "auth_token"]
    # The old token no longer verifies webhooks; the new one does.
    response, _ = sms.inbound("hi")
    assert response.status_code == 403
    assert sms.admin.delete(f"/api/v1/channel-accounts/{account_id}").status_code == 204
    assert sms.admin.get(f"/api/v1/channel-accounts/{account_id}").json["is_active"] is False


def test_send_test_message_goes_out_through_the_adapter(sms, provider):
    response = sms.admin.post(
        f"/api/v1/channel-accounts/{sms.account['id']}/test-message", json={"to": "+8613900139000", "text": "测试 ✅"}
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "sent" and response.json["provider_message_id"].startswith("SM")
    assert provider.requests[0].form["To"] == "+8613900139000" and provider.requests[0].form["Body"] == "测试 ✅"
    provider.answers.append((401, {"code": 20003, "message": "Authenticate"}))
    failed = sms.admin.post(f"/api/v1/channel-accounts/{sms.account['id']}/test-message", json={"to": "+15005550001", "text": "x"})
    assert failed.status_code == 200 and failed.json["status"] == "failed" and "20003" in failed.json["error"]
