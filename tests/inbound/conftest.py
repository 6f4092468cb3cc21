"""Fixtures of the inbox tests: a recording provider, a Twilio SMS account made through the admin API,
and a helper that sends webhooks signed by twilio's own RequestValidator."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.channels import recording_server

SID = "AC" + "1" * 32
TOKEN = "secret-auth-token-0123456789abcd"
CUSTOMER = "+8613800138000"
OUR_NUMBER = "+14155550100"
_sids = itertools.count(1)


def message_sid() -> str:
    return f"SM{next(_sids):032d}"


@pytest.fixture
def provider():  # type: ignore[no-untyped-def]
    state, server = recording_server.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class Sms:
    client: Any  # an unauthenticated test client: the provider
    admin: Any  # ApiClient of an admin
    account: dict[str, Any]

    @property
    def path(self) -> str:
        return self.account["webhook_urls"]["message"]

    def post(self, path: str, fields: dict[str, str], *, token: str = TOKEN, body: bytes | None = None, signature: str | None = None):  # type: ignore[no-untyped-def]
        sig = RequestValidator(token).compute_signature("http://localhost" + path, fields) if signature is None else signature
        headers = {"X-Twilio-Signature": sig} if sig else {}
        data = urlencode(fields).encode() if body is None else body
        return self.client.post(path, data=data, headers=headers, content_type="application/x-www-form-urlencoded")

    def inbound(self, body: str = "你好\uff0c宽带坏了", sender: str = CUSTOMER, **extra: str):  # type: ignore[no-untyped-def]
        fields = {"MessageSid": extra.pop("MessageSid", None) or message_sid(), "AccountSid": SID, "From": sender, "To": OUR_NUMBER}
        fields |= {"Body": body, "NumSegments": "1", "NumMedia": "0", **extra}
        return self.post(self.path, fields), fields

    def status(self, provider_sid: str, status: str, **extra: str):  # type: ignore[no-untyped-def]
        return self.post(
            self.account["webhook_urls"]["status"], {"MessageSid": provider_sid, "MessageStatus": status, "AccountSid": SID, **extra}
        )


@pytest.fixture
def sms(app, world, login_as, provider) -> Sms:  # type: ignore[no-untyped-def]
    admin = login_as(world.admin)
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "sms.twilio",
            "name": "Hotline SMS",
            "default_department_id": world.dept_a.id,
            "credentials": {"account_sid": SID, "auth_token": TOKEN},
            "settings": {"from_number": OUR_NUMBER, "api_base_url": provider.url, "webhook_base_url": "http://localhost"},
        },
    )
    assert response.status_code == 201, response.json
    return Sms(app.test_client(), admin, response.json)


@pytest.fixture
def channel_settings(app, monkeypatch):  # type: ignore[no-untyped-def]
    """change(**fields): this test runs with other channel settings."""

    def change(**fields: Any) -> None:
        settings = app.config["SERVICE_HUB"]
        monkeypatch.setitem(
            app.config, "SERVICE_HUB", dataclasses.replace(settings, channels=dataclasses.replace(settings.channels, **fields))
        )

    return change


@pytest.fixture
def sweep(app):  # type: ignore[no-untyped-def]
    """Run the scheduler's sweep job once, as the scheduler does (eager here: in place)."""
    from service_hub.inbound.tasks import sweep_task

    def run() -> dict[str, int]:
        with app.app_context():
            return sweep_task.delay().get()  # type: ignore[no-any-return]

    return run
