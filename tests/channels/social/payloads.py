"""Provider payloads as the providers document them, signed with their own schemes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

WECHAT_TOKEN = "wx-callback-token"
WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as the console gives
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_SECRET = "wechat-app-secret"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
OA_ID = "gh_0123456789ab"

META_SECRET = "meta-app-secret"
META_TOKEN = "EAAG-page-or-system-user-token"
VERIFY_TOKEN = "our-verify-token"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "8613800138000"
PAGE_ID = "1234567890"
PSID = "6789012345678901"


def wechat_signature(timestamp: str, nonce: str, token: str = WECHAT_TOKEN) -> str:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return str(signer.signature)


def wechat_xml(msg_type: str, msg_id: str | None = "6054768590064713728", created: int | None = None, **fields: str) -> str:
    created = created or int(time.time())
    parts = [f"<ToUserName><![CDATA[{OA_ID}]]></ToUserName>", f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"]
    parts += [f"<CreateTime>{created}</CreateTime>", f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
    parts += [f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()]
    if msg_id:
        parts.append(f"<MsgId>{msg_id}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def wechat_query(timestamp: str | None = None, nonce: str = "1320562132", token: str = WECHAT_TOKEN) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {"signature": wechat_signature(timestamp, nonce, token), "timestamp": timestamp, "nonce": nonce, "openid": OPENID}


def wechat_encrypted(xml: str, timestamp: str, nonce: str, app_id: str = WECHAT_APP_ID) -> tuple[bytes, str]:
    """The safe-mode body and its msg_signature, made by wechatpy as WeChat's servers do."""
    envelope = WeChatCrypto(WECHAT_TOKEN, WECHAT_AES_KEY, app_id).encrypt_message(xml, nonce, timestamp)
    start = envelope.index("<MsgSignature><![CDATA[") + len("<MsgSignature><![CDATA[")
    signature = envelope[start : envelope.index("]]>", start)]
    body = envelope.split("<MsgSignature>")[0] + "</xml>"  # WeChat's request has Encrypt (and ToUserName) only
    return body.encode(), signature


def meta_signature(body: bytes, secret: str = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp_value(**value: Any) -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                            **value,
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def whatsapp_text(text: str, message_id: str = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=") -> bytes:
    return whatsapp_value(
        contacts=[{"profile": {"name": "Li Lei"}, "wa_id": WA_ID}],
        messages=[{"from": WA_ID, "id": message_id, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}],
    )


def whatsapp_status(message_id: str, status: str, **extra: Any) -> bytes:
    entry = {"id": message_id, "status": status, "timestamp": str(int(time.time())), "recipient_id": WA_ID, **extra}
    return whatsapp_value(statuses=[entry])


def messenger_text(
    text: str, mid: str = "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
) -> bytes:
    payload = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": int(time.time() * 1000),
                "messaging": [
                    {
                        "sender": {"id": PSID},
                        "recipient": {"id": PAGE_ID},
                        "timestamp": int(time.time() * 1000),
                        "message": {"mid": mid, "text": text},
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def messenger_delivery(*mids: str) -> bytes:
    event = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "delivery": {"mids": list(mids), "watermark": int(time.time() * 1000)}}
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [event]}]}).encode()
