"""WeChat Official Accounts (公众号): signed XML callbacks, plaintext or AES safe mode; customer-service replies.

Callbacks: WeChat calls the server URL with ``signature``, ``timestamp`` and ``nonce`` in the
query; ``signature`` is sha1 over the sorted (token, timestamp, nonce). The URL check is a GET
that echoes ``echostr``. In safe mode (``encrypt_type=aes``) the body is
``<xml><Encrypt>...</Encrypt></xml>`` and ``msg_signature`` signs (token, timestamp, nonce,
Encrypt) as well; the ciphertext carries the AppID it is for. wechatpy computes the signatures
and runs the message crypto; we compare in constant time and refuse what wechatpy does not check
(bad padding, a length past the end end up as "another AppID" -> PayloadError).

Replay: WeChat signs a timestamp; one further than MAX_CLOCK_SKEW from our clock is refused. A
replay inside the window is the same MsgId (or FromUserName+CreateTime for events), which the
durable inbox keys on: acknowledged, nothing new. Nonces are not remembered; the key does that job.

Safe mode's envelope ends at our edge: ``open_envelope`` decrypts after the signature checks and
the inbox stores the decrypted XML, so processing never needs the AES key.

Messages: text, image (PicUrl as an attachment), voice (Recognition when WeChat's speech
recognition is on), video, location and link become messages; events (subscribe, unsubscribe,
menu clicks, scans) are stored and processed but open no ticket: a follow is not a question.

Replies go through the customer-service message API (POST /cgi-bin/message/custom/send), allowed
for 48 hours after the customer's last message (``reply_window``). It needs an access token,
fetched with the stable-token API and cached per AppID in process until shortly before it
expires: the stable token does not invalidate other holders' tokens, so each worker process
keeping its own copy is safe. WeChat has no delivery receipts: the API's errcode is the status
(0 -> sent; anything else -> failed with that code), and no status webhook exists.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner

from channels.base import (
    Attachment,
    DeliveryState,
    DeliveryUpdate,
    HookAck,
    HookKind,
    HttpTransport,
    InboundMessage,
    MediaDownload,
    MediaError,
    OutboundMessage,
    PayloadError,
    ReplayError,
    SendError,
    SendResult,
    SignatureError,
    WebhookRequest,
    open_media,
    read_small,
)
from channels.sanitize import clean_text, single_line
from channels.social.json_api import body_transport, dumps, loads_object

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
MAX_CLOCK_SKEW = 300  # seconds either side of our clock
MAX_TEXT = 10_000  # WeChat caps text at 2,048 bytes; anything far beyond is not WeChat
TOKEN_MARGIN = 300  # renew the access token this many seconds before WeChat says it expires
# Access-token errors: invalid, expired, or not the latest. The send retries once with a fresh one.
_TOKEN_ERRORS = {40001, 40014, 42001}
# Errors a retry can fix: system busy, rate limits.
_TRANSIENT_ERRORS = {-1, 45009, 45011}
_VOICE_TYPES = {"amr": "audio/amr", "speex": "audio/speex", "mp3": "audio/mpeg"}
_ERROR_TEXT = {
    45015: "outside WeChat's 48-hour customer-service window (response time limit exceeded)",
    45047: "too many customer-service messages since the customer's last message",
    43004: "the customer no longer follows the official account",
    40003: "not an openid of this official account",
}


def _xml_fields(body: bytes) -> dict[str, str]:
    """The children of a flat WeChat <xml> document. No DTDs: WeChat never sends one, and
    refusing them before parsing rules out entity expansion and external entities."""
    head = body[:2048].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise PayloadError("XML with a document type declaration is refused.")
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - DTDs (the XXE and entity-bomb vector) are refused above
    except ElementTree.ParseError:
        raise PayloadError("The body is not XML.") from None
    if root.tag != "xml":
        raise PayloadError("The body is not a WeChat <xml> message.")
    return {child.tag: (child.text or "") for child in root}


def _query(request: WebhookRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query, keep_blank_values=True).items()}


def _sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


class _TokenCache:
    """Access tokens per (API base, AppID), in process, until TOKEN_MARGIN before they expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def put(self, key: tuple[str, str], token: str, expires_in: int) -> None:
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + max(expires_in - TOKEN_MARGIN, 60))

    def drop(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)


class WeChatOfficialAccount:
    kind: ClassVar[str] = "social.wechat"
    family: ClassVar[str] = "social"
    # token signs callbacks; encoding_aes_key (43 characters) is the safe-mode key, which the
    # console shows in every mode; app_secret fetches access tokens.
    credential_fields: ClassVar[tuple[str, ...]] = ("app_secret", "token", "encoding_aes_key")
    setting_fields: ClassVar[tuple[str, ...]] = ("app_id", "api_base_url", "webhook_base_url")
    reply_window: ClassVar[timedelta] = timedelta(hours=48)
    reply_window_advice: ClassVar[str] = (
        "outside WeChat's 48-hour customer-service window; the customer has to write again (or send a template message)"
    )

    def __init__(self) -> None:
        self.tokens = _TokenCache()
        self.clock = time.time  # tests move it

    # --- webhooks -------------------------------------------------------------------------------

    def handshake(self, query: Mapping[str, str], credentials: Mapping[str, str], settings: Mapping[str, str]) -> bytes:
        """The server-URL check: a signed GET whose ``echostr`` we echo."""
        self._check_signature(query, credentials)
        echostr = query.get("echostr", "")
        if not echostr:
            raise PayloadError("The verification request has no echostr.")
        return single_line(echostr, 200).encode()

    def _check_signature(self, query: Mapping[str, str], credentials: Mapping[str, str]) -> None:
        token = credentials.get("token", "")
        if not token:
            raise SignatureError("The account has no token to check the signature with.")
        signature, timestamp, nonce = query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", "")
        if not signature or not timestamp or not nonce:
            raise SignatureError("signature, timestamp or nonce is missing.")
        if not _same(_sign(token, timestamp, nonce), signature):
            raise SignatureError("signature does not match.")
        try:
            skew = abs(self.clock() - int(timestamp))
        except ValueError:
            raise SignatureError("timestamp is not a number.") from None
        if skew > MAX_CLOCK_SKEW:
            raise ReplayError(f"timestamp is {int(skew)} s away from our clock (at most {MAX_CLOCK_SKEW} s).")

    def verify(self, request: WebhookRequest, credentials: Mapping[str, str], settings: Mapping[str, str]) -> None:
        query = _query(request)
        self._check_signature(query, credentials)
        if query.get("encrypt_type") == "aes":
            msg_signature = query.get("msg_signature", "")
            if not msg_signature:
                raise SignatureError("msg_signature is missing in safe mode.")
            encrypted = _xml_fields(request.body).get("Encrypt", "")
            expected = _sign(credentials["token"], query["timestamp"], query["nonce"], encrypted)
            if not encrypted or not _same(expected, msg_signature):
                raise SignatureError("msg_signature does not match the ciphertext.")

    def open_envelope(self, request: WebhookRequest, credentials: Mapping[str, str], settings: Mapping[str, str]) -> WebhookRequest:
        """Safe mode: the verified request with its body decrypted; plaintext mode: unchanged."""
        query = _query(request)
        if query.get("encrypt_type") != "aes":
            return request
        app_id = settings.get("app_id", "")
        try:
            crypto = WeChatCrypto(credentials.get("token", ""), credentials.get("encoding_aes_key", ""), app_id)
        except Exception:
            raise PayloadError("The account's encoding_aes_key is not a 43-character WeChat key.") from None
        encrypted = _xml_fields(request.body).get("Encrypt", "")
        try:
            plaintext = crypto.decrypt_message(
                {"Encrypt": encrypted}, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
            )
        except InvalidSignatureException:
            raise SignatureError("msg_signature does not match the ciphertext.") from None
        except InvalidAppIdException:
            raise PayloadError("The ciphertext is for another AppID (or its length field is wrong).") from None
        except Exception:
            # Bad base64, a partial block, bad padding, invalid UTF-8: not something WeChat sent.
            raise PayloadError("The ciphertext cannot be decrypted.") from None
        return dataclasses.replace(request, body=str(plaintext).encode("utf-8"))

    def provider_event_id(self, hook: HookKind, request: WebhookRequest) -> str:
        fields = _xml_fields(request.body)
        if fields.get("MsgId"):
            return single_line(fields["MsgId"], 64)
        sender, created = fields.get("FromUserName", ""), fields.get("CreateTime", "")
        if sender and created:
            # Events have no MsgId; WeChat's documented key for them is FromUserName + CreateTime.
            return single_line(f"{sender}:{created}:{fields.get('Event', '')}", 160)
        return "sha256:" + hashlib.sha256(request.body).hexdigest()

    def ack(self, hook: HookKind) -> HookAck:
        # "success" (or an empty body): WeChat sends no reply to the customer and does not retry.
        return HookAck(body=b"success", content_type="text/plain")

    # --- parsing --------------------------------------------------------------------------------

    def parse_inbound(self, body: bytes, *, account: str, raw_ref: str, received_at: datetime) -> list[InboundMessage]:
        fields = _xml_fields(body)
        kind = fields.get("MsgType", "").strip().lower()
        sender = single_line(fields.get("FromUserName", ""), 64)
        if not sender:
            raise PayloadError("The message has no FromUserName (openid).")
        if kind == "event":
            return []  # stored and processed; a follow or a menu click opens no ticket
        msg_id = single_line(fields.get("MsgId", ""), 64)
        if not msg_id:
            raise PayloadError("The message has no MsgId.")
        text, attachments, extra = self._content(kind, fields)
        if len(text) > MAX_TEXT:
            raise PayloadError(f"The message text is longer than {MAX_TEXT} characters.")
        if not text and not attachments:
            raise PayloadError(f"The {kind or 'untyped'} message has no content.")
        return [
            InboundMessage(
                channel="wechat",
                account=account,
                provider_message_id=msg_id,
                sender=sender,
                sender_kind="wechat",
                recipient=single_line(fields.get("ToUserName", ""), 64) or None,
                conversation_key=f"{account}:{sender}",
                text=text,
                received_at=received_at.astimezone(UTC),
                raw_ref=raw_ref,
                attachments=attachments,
                extra={"msg_type": kind, **extra},
            )
        ]

    def _content(self, kind: str, fields: Mapping[str, str]) -> tuple[str, tuple[Attachment, ...], dict[str, str]]:
        media_id = single_line(fields.get("MediaId", ""), 128)
        extra = {"media_id": media_id} if media_id else {}
        if kind == "text":
            return clean_text(fields.get("Content", "")), (), extra
        if kind == "image":
            url = fields.get("PicUrl", "")
            url = single_line(url, 2000) if url.startswith(("https://", "http://")) else ""
            attachments = (Attachment(url=url, media_id=media_id or None, media_type="image/jpeg"),) if url or media_id else ()
            return "[image]", attachments, extra
        if kind == "voice":
            # Recognition is WeChat's transcript, present when speech recognition is switched on.
            recognised = clean_text(fields.get("Recognition", "")).strip()
            extra["format"] = single_line(fields.get("Format", ""), 16)
            voice_type = _VOICE_TYPES.get(extra["format"].lower(), "application/octet-stream")
            voice = (Attachment(url="", media_id=media_id, media_type=voice_type),) if media_id else ()
            return (f"[voice] {recognised}" if recognised else "[voice message]"), voice, extra
        if kind in ("video", "shortvideo"):
            video = (Attachment(url="", media_id=media_id, media_type="video/mp4"),) if media_id else ()
            return "[video]", video, extra
        if kind == "location":
            label = clean_text(fields.get("Label", ""))
            return f"[location] {label} ({fields.get('Location_X', '')}, {fields.get('Location_Y', '')})".strip(), (), extra
        if kind == "link":
            return clean_text(f"[link] {fields.get('Title', '')} {fields.get('Url', '')}"), (), extra
        raise PayloadError(f"Unknown WeChat MsgType {kind!r}.")

    def parse_status(self, body: bytes) -> list[DeliveryUpdate]:
        raise PayloadError("WeChat sends no delivery receipts; the send's errcode is the status.")

    # --- media ----------------------------------------------------------------------------------

    def fetch_media(
        self, attachment: Attachment, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> MediaDownload:
        """Temporary media by MediaId: GET /cgi-bin/media/get?access_token=…&media_id=… (kept 3 days
        by WeChat). It answers the file, or JSON: an error (a stale token is renewed once) or, for
        videos, a video_url to GET. Without a MediaId, the PicUrl is a public link."""
        if not attachment.media_id:
            return open_media(transport, attachment.url, timeout=20.0)
        base = (settings.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")
        for attempt in (1, 2):
            try:
                token = self._access_token(base, credentials, settings, transport, force=attempt == 2)
            except SendError as exc:
                raise MediaError(str(exc), permanent=exc.permanent) from None
            query = f"access_token={quote(token, safe='')}&media_id={quote(attachment.media_id, safe='')}"
            download = open_media(transport, f"{base}/cgi-bin/media/get?{query}", timeout=20.0)
            if download.media_type not in ("application/json", "text/plain"):
                return download
            answer = loads_object(read_small(download))
            video_url = answer.get("video_url")
            if isinstance(video_url, str) and video_url:
                return open_media(transport, video_url, timeout=20.0)
            errcode = _errcode(answer)
            if errcode in _TOKEN_ERRORS and attempt == 1:
                self.tokens.drop((base, settings.get("app_id", "")))
                continue
            raise MediaError(
                f"WeChat gave no media: errcode {errcode}: {answer.get('errmsg') or 'no file'}", permanent=errcode not in _TRANSIENT_ERRORS
            )
        raise MediaError("WeChat refused a fresh access token.", permanent=False)  # pragma: no cover - the loop returns or raises

    # --- sending --------------------------------------------------------------------------------

    def send(
        self, message: OutboundMessage, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> SendResult:
        poster = body_transport(transport)
        base = (settings.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")
        payload = dumps({"touser": message.to, "msgtype": "text", "text": {"content": message.text}})
        for attempt in (1, 2):
            token = self._access_token(base, credentials, settings, transport, force=attempt == 2)
            url = f"{base}/cgi-bin/message/custom/send?access_token={quote(token, safe='')}"
            try:
                response = poster.post_body(url, payload, headers={"Content-Type": "application/json; charset=utf-8"}, timeout=15.0)
            except OSError as exc:
                raise SendError(f"WeChat could not be reached: {exc}", permanent=False) from None
            if response.status >= 500 or response.status == 429:
                raise SendError(f"WeChat answered {response.status}", permanent=False)
            answer = loads_object(response.body)
            errcode = _errcode(answer)
            if errcode == 0:
                # No message id comes back: the delivery's own key stands in for it.
                return SendResult(provider_message_id=f"wechat:{message.idempotency_key}", state=DeliveryState.SENT, raw_status="errcode 0")
            if errcode in _TOKEN_ERRORS and attempt == 1:
                self.tokens.drop((base, settings.get("app_id", "")))
                continue
            reason = _ERROR_TEXT.get(errcode) or str(answer.get("errmsg") or f"HTTP {response.status}")
            raise SendError(
                f"WeChat refused the message: errcode {errcode}: {reason}", permanent=errcode not in _TRANSIENT_ERRORS, code=str(errcode)
            )
        raise SendError("WeChat refused a fresh access token.", permanent=False)  # pragma: no cover - the loop returns or raises

    def _access_token(
        self, base: str, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport, *, force: bool
    ) -> str:
        app_id, secret = settings.get("app_id", ""), credentials.get("app_secret", "")
        if not app_id or not secret:
            raise SendError("The account has no app_id or app_secret.", permanent=True)
        key = (base, app_id)
        cached = None if force else self.tokens.get(key)
        if cached:
            return cached
        request = {"grant_type": "client_credential", "appid": app_id, "secret": secret, "force_refresh": force}
        try:
            response = body_transport(transport).post_body(
                f"{base}/cgi-bin/stable_token", dumps(request), headers={"Content-Type": "application/json"}, timeout=15.0
            )
        except OSError as exc:
            raise SendError(f"WeChat's token API could not be reached: {exc}", permanent=False) from None
        answer = loads_object(response.body)
        token = answer.get("access_token")
        if response.status != 200 or not isinstance(token, str) or not token:
            errcode = _errcode(answer)
            raise SendError(
                f"WeChat gave no access token: errcode {errcode}: {answer.get('errmsg') or response.status}",
                permanent=errcode in (40013, 40125, 40164),  # bad AppID, bad secret, IP not whitelisted
                code=str(errcode),
            )
        expires_in = answer.get("expires_in")
        self.tokens.put(key, token, expires_in if isinstance(expires_in, int) else 7200)
        return token


def _errcode(answer: Mapping[str, object]) -> int:
    value = answer.get("errcode", 0 if answer.get("access_token") else -1)
    return value if isinstance(value, int) else -1
