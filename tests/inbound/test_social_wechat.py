"""WeChat end to end: URL verification, plaintext and safe-mode messages signed by wechatpy, the ticket in
the API, a reply through the customer-service API (local recording server), its 48-hour window."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound.models import InboundRecord, OutboundDelivery, OutboundStatus, RecordStatus
from service_hub.tickets.models import Message
from tests.channels.social import provider_api
from tests.channels.social.payloads import (
    OPENID,
    WECHAT_AES_KEY,
    WECHAT_APP_ID,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    wechat_encrypted,
    wechat_query,
    wechat_xml,
)


@pytest.fixture
def social_api():  # type: ignore[no-untyped-def]
    """A local recording server standing in for WeChat's and the Graph API."""
    state, server = provider_api.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def wechat(app, world, login_as, social_api):  # type: ignore[no-untyped-def]
    admin = login_as(world.admin)
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "social.wechat",
            "name": "Service account",
            "default_department_id": world.dept_a.id,
            "credentials": {"app_secret": WECHAT_SECRET, "token": WECHAT_TOKEN, "encoding_aes_key": WECHAT_AES_KEY},
            "settings": {"app_id": WECHAT_APP_ID, "api_base_url": social_api.url, "webhook_base_url": "http://localhost"},
        },
    )
    assert response.status_code == 201, response.json
    return app.test_client(), response.json["webhook_urls"]["message"]


def _post(wechat, body: bytes, query: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    client, path = wechat
    return client.post(path, data=body, query_string=query or wechat_query(), content_type="text/xml")


def _tickets(api) -> list[dict]:  # type: ignore[no-untyped-def]
    return api.get("/api/v1/tickets?channel=wechat").json["items"]


def test_url_verification(wechat):
    client, path = wechat
    ok = client.get(path, query_string=wechat_query() | {"echostr": "5837397520853320448"})
    assert ok.status_code == 200 and ok.data == b"5837397520853320448"
    wrong = client.get(path, query_string=wechat_query(token="wrong") | {"echostr": "1"})
    assert wrong.status_code == 403


def test_plaintext_message_becomes_a_ticket_and_the_reply_goes_out(wechat, world, login_as, social_api):
    response = _post(wechat, wechat_xml("text", Content="宽带坏了 <img src=x onerror=alert(1)>").encode())
    assert response.status_code == 200 and response.data == b"success"
    agent = login_as(world.agent_a)
    (ticket,) = _tickets(agent)
    messages = agent.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"]
    assert messages[0]["body_text"] == "宽带坏了 <img src=x onerror=alert(1)>" and not messages[0].get("body_html")

    reply = agent.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"kind": "reply", "body_text": "您好, 师傅明天上门"})
    assert reply.status_code == 201, reply.json
    token_call, send = social_api.requests
    assert token_call.path == "/cgi-bin/stable_token"
    assert send.path.startswith("/cgi-bin/message/custom/send?access_token=ACCESS_")
    assert social_api.json(1) == {"touser": OPENID, "msgtype": "text", "text": {"content": "您好, 师傅明天上门"}}
    db.session.expire_all()
    delivery = db.session.scalars(select(OutboundDelivery).where(OutboundDelivery.message_id == reply.json["id"])).one()
    # No receipts from WeChat: errcode 0 is the final word.
    assert delivery.status == OutboundStatus.SENT and delivery.provider_status == "errcode 0"


def test_safe_mode_image_voice_and_a_subscribe_event(wechat, world, login_as):
    timestamp, nonce = str(int(time.time())), "20261124"
    for n, xml in enumerate(
        [
            wechat_xml("image", msg_id="7001", PicUrl="https://mmbiz.qpic.cn/p.jpg", MediaId="m1"),
            wechat_xml("voice", msg_id="7002", MediaId="m2", Format="amr", Recognition="网络又断了"),
            wechat_xml("event", msg_id=None, Event="subscribe"),
        ]
    ):
        body, msg_signature = wechat_encrypted(xml, timestamp, nonce + str(n))
        query = wechat_query(timestamp, nonce + str(n)) | {"encrypt_type": "aes", "msg_signature": msg_signature}
        assert _post(wechat, body, query).status_code == 200
    agent = login_as(world.agent_a)
    (ticket,) = _tickets(agent)
    texts = [m["body_text"] for m in agent.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"]]
    assert texts == ["[image]", "[voice] 网络又断了"]
    records = db.session.scalars(select(InboundRecord).order_by(InboundRecord.id)).all()
    assert [r.status for r in records] == [RecordStatus.PROCESSED] * 3
    assert records[2].ticket_id is None and b"subscribe" in records[2].body  # recorded, decrypted, no ticket


def test_duplicate_msgid_stale_timestamp_tampered_signature_and_foreign_appid(wechat, world, login_as):
    body = wechat_xml("text", msg_id="8001", Content="hello").encode()
    assert _post(wechat, body).status_code == 200
    assert _post(wechat, body, wechat_query(nonce="another")).status_code == 200  # replayed: acknowledged
    assert db.session.scalar(select(db.func.count()).select_from(InboundRecord)) == 1
    assert (
        _post(wechat, wechat_xml("text", msg_id="8002", Content="x").encode(), wechat_query(str(int(time.time()) - 3600))).status_code
        == 403
    )
    tampered = wechat_query() | {"signature": "0" * 40}
    assert _post(wechat, wechat_xml("text", msg_id="8003", Content="x").encode(), tampered).status_code == 403
    timestamp, nonce = str(int(time.time())), "n1"
    foreign, msg_signature = wechat_encrypted(wechat_xml("text", msg_id="8004", Content="x"), timestamp, nonce, app_id="wxother0000000000")
    refused = _post(wechat, foreign, wechat_query(timestamp, nonce) | {"encrypt_type": "aes", "msg_signature": msg_signature})
    assert refused.status_code == 400 and "Traceback" not in refused.get_data(as_text=True)
    assert _post(wechat, b"<xml><broken", wechat_query()).status_code == 400
    assert db.session.scalar(select(db.func.count()).select_from(InboundRecord)) == 1
    assert len(_tickets(login_as(world.agent_a))) == 1


def test_a_reply_after_48_hours_is_refused_and_nothing_is_sent(wechat, world, login_as, social_api):
    _post(wechat, wechat_xml("text", Content="还在吗").encode())
    agent = login_as(world.agent_a)
    (ticket,) = _tickets(agent)
    db.session.execute(update(Message).where(Message.ticket_id == ticket["id"]).values(created_at=utcnow() - timedelta(hours=49)))
    db.session.commit()
    refused = agent.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"kind": "reply", "body_text": "sorry for the wait"})
    assert refused.status_code == 409 and refused.json["type"].endswith("outside-reply-window")
    assert "48-hour customer-service window" in refused.json["detail"]
    assert social_api.requests == [] and db.session.scalar(select(db.func.count()).select_from(OutboundDelivery)) == 0
