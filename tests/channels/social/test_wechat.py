"""The WeChat adapter alone: wechatpy signs and encrypts what the tests send, as WeChat's servers do."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from wechatpy.utils import check_signature

from channels.base import HookKind, OutboundMessage, PayloadError, ReplayError, SendError, SignatureError, WebhookRequest
from channels.http_transport import RequestsTransport
from channels.social.wechat import WeChatOfficialAccount
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

CREDENTIALS = {"app_secret": WECHAT_SECRET, "token": WECHAT_TOKEN, "encoding_aes_key": WECHAT_AES_KEY}
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _request(query: dict[str, str], body: bytes) -> WebhookRequest:
    return WebhookRequest(url="https://hub.example.com/hooks/social/wechat/x?" + urlencode(query), method="POST", headers={}, body=body)


@pytest.fixture
def adapter() -> WeChatOfficialAccount:
    return WeChatOfficialAccount()


def test_url_verification_echoes_echostr_and_refuses_a_wrong_signature(adapter):
    query = wechat_query() | {"echostr": "5837397520853320448"}
    check_signature(WECHAT_TOKEN, query["signature"], query["timestamp"], query["nonce"])  # what WeChat computed
    assert adapter.handshake(query, CREDENTIALS, {}) == b"5837397520853320448"
    with pytest.raises(SignatureError):
        adapter.handshake(query | {"signature": "0" * 40}, CREDENTIALS, {})


def test_plaintext_text_message(adapter):
    body = wechat_xml("text", Content="宽带坏了 <script>alert(1)</script>\u200b").encode()
    request = _request(wechat_query(), body)
    adapter.verify(request, CREDENTIALS, {"app_id": WECHAT_APP_ID})
    assert adapter.open_envelope(request, CREDENTIALS, {"app_id": WECHAT_APP_ID}) is request
    assert adapter.provider_event_id(HookKind.MESSAGE, request) == "6054768590064713728"
    (message,) = adapter.parse_inbound(body, account="acct", raw_ref="inbound:1", received_at=NOW)
    assert message.sender == OPENID and message.sender_kind == "wechat" and message.channel == "wechat"
    assert message.text == "宽带坏了 <script>alert(1)</script>\u200b" and message.html is None  # text, never HTML


def test_safe_mode_is_verified_and_decrypted(adapter):
    timestamp, nonce = str(int(time.time())), "982374"
    body, msg_signature = wechat_encrypted(wechat_xml("text", Content="加密的消息"), timestamp, nonce)
    query = wechat_query(timestamp, nonce) | {"encrypt_type": "aes", "msg_signature": msg_signature}
    request = _request(query, body)
    settings = {"app_id": WECHAT_APP_ID}
    adapter.verify(request, CREDENTIALS, settings)
    opened = adapter.open_envelope(request, CREDENTIALS, settings)
    (message,) = adapter.parse_inbound(opened.body, account="acct", raw_ref="inbound:1", received_at=NOW)
    assert message.text == "加密的消息"

    with pytest.raises(SignatureError):
        adapter.verify(_request(query | {"msg_signature": "f" * 40}, body), CREDENTIALS, settings)
    other_body, other_signature = wechat_encrypted(wechat_xml("text", Content="x"), timestamp, nonce, app_id="wxanotherapp00000")
    other = _request(query | {"msg_signature": other_signature}, other_body)
    adapter.verify(other, CREDENTIALS, settings)  # signed correctly, but for another AppID
    with pytest.raises(PayloadError, match="another AppID"):
        adapter.open_envelope(other, CREDENTIALS, settings)


def test_stale_timestamp_and_tampered_signature_are_refused(adapter):
    body = wechat_xml("text", Content="hi").encode()
    with pytest.raises(ReplayError):
        adapter.verify(_request(wechat_query(str(int(time.time()) - 3600)), body), CREDENTIALS, {})
    with pytest.raises(SignatureError):
        adapter.verify(_request(wechat_query(token="not-our-token"), body), CREDENTIALS, {})
    with pytest.raises(SignatureError):
        adapter.verify(_request({}, body), CREDENTIALS, {})


def test_image_voice_and_events(adapter):
    image = wechat_xml("image", PicUrl="https://mmbiz.qpic.cn/x.jpg", MediaId="media-1").encode()
    (message,) = adapter.parse_inbound(image, account="a", raw_ref="r", received_at=NOW)
    assert message.attachments[0].url == "https://mmbiz.qpic.cn/x.jpg" and message.extra["media_id"] == "media-1"
    voice = wechat_xml("voice", MediaId="media-2", Format="amr", Recognition="我要报修").encode()
    (message,) = adapter.parse_inbound(voice, account="a", raw_ref="r", received_at=NOW)
    assert message.text == "[voice] 我要报修" and message.extra["format"] == "amr"
    event = wechat_xml("event", msg_id=None, created=1700000000, Event="subscribe").encode()
    assert adapter.parse_inbound(event, account="a", raw_ref="r", received_at=NOW) == []
    assert adapter.provider_event_id(HookKind.MESSAGE, _request({}, event)) == f"{OPENID}:1700000000:subscribe"


def test_malformed_and_entity_bodies_are_payload_errors(adapter):
    for body in (b"not xml", b"<html/>", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>'):
        with pytest.raises(PayloadError):
            adapter.parse_inbound(body, account="a", raw_ref="r", received_at=NOW)
    with pytest.raises(PayloadError):
        adapter.parse_status(b"<xml/>")


def test_send_fetches_a_stable_token_once_and_posts_the_customer_service_message(adapter, social_api):
    settings = {"app_id": WECHAT_APP_ID, "api_base_url": social_api.url}
    for n in range(2):
        result = adapter.send(
            OutboundMessage(to=OPENID, text="您好 👋", idempotency_key=f"d-{n}"), CREDENTIALS, settings, RequestsTransport()
        )
        assert result.provider_message_id == f"wechat:d-{n}"
    token_call, first, second = social_api.requests
    assert token_call.path == "/cgi-bin/stable_token"
    assert social_api.json(0) == {
        "grant_type": "client_credential",
        "appid": WECHAT_APP_ID,
        "secret": WECHAT_SECRET,
        "force_refresh": False,
    }
    token = f"ACCESS_{first.path.split('ACCESS_')[1]}"
    assert first.path == f"/cgi-bin/message/custom/send?access_token={token}" == second.path  # cached
    assert social_api.json(1) == {"touser": OPENID, "msgtype": "text", "text": {"content": "您好 👋"}}
    assert "您好".encode() in first.body  # unescaped UTF-8


def test_an_expired_token_is_renewed_and_window_errors_are_permanent(adapter, social_api):
    settings = {"app_id": WECHAT_APP_ID, "api_base_url": social_api.url}
    social_api.answers.extend([(200, {"access_token": "OLD", "expires_in": 7200}), (200, {"errcode": 42001, "errmsg": "expired"})])
    adapter.send(OutboundMessage(to=OPENID, text="x", idempotency_key="k"), CREDENTIALS, settings, RequestsTransport())
    assert [r.path.split("?")[0] for r in social_api.requests] == [
        "/cgi-bin/stable_token",
        "/cgi-bin/message/custom/send",
        "/cgi-bin/stable_token",
        "/cgi-bin/message/custom/send",
    ]
    assert social_api.json(2)["force_refresh"] is True
    social_api.answers.append((200, {"errcode": 45015, "errmsg": "response out of time limit"}))
    with pytest.raises(SendError, match="48-hour") as refused:
        adapter.send(OutboundMessage(to=OPENID, text="x", idempotency_key="k2"), CREDENTIALS, settings, RequestsTransport())
    assert refused.value.permanent and refused.value.code == "45015"
