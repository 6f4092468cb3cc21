"""Inbound media end to end: Twilio MMS (basic auth), WhatsApp (two steps, bearer), mail parts and inline cid:
images; content that lies about its type, oversized media, a provider 500 retried without a duplicate.
Providers' media hosts are a local HTTP server that records every request; everything is checked through the API."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import smtplib
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.inbound.models import InboundRecord, RecordStatus
from service_hub.inbound.smtp_listener import controller
from service_hub.tickets.models import Attachment
from tests.channels.recording_server import Recorded
from tests.channels.social.payloads import META_SECRET, META_TOKEN, PHONE_NUMBER_ID, VERIFY_TOKEN, WA_ID, meta_signature, whatsapp_value
from tests.inbound.conftest import OUR_NUMBER, SID, TOKEN, Sms
from tests.inbound.test_email_flow import DESK, free_port, send

# Real file signatures, as filetype recognises them.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200
HTML = b"<html><body><script>fetch('/api/v1/tickets').then(r => r.text()).then(alert)</script></body></html>"


# --- a provider's media host -----------------------------------------------------------------------


@dataclass
class MediaHost:
    """Answers GETs by path from queued answers (the last one repeats) and records every request."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    routes: dict[str, deque[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)

    def serve(self, path: str, *answers: tuple[int, dict[str, str], bytes]) -> str:
        self.routes[path] = deque(answers)
        return self.url + path

    def file(self, path: str, body: bytes, content_type: str) -> str:
        return self.serve(path, (200, {"Content-Type": content_type, "Content-Length": str(len(body))}, body))

    def got(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        queue = self.routes.get(path)
        if not queue:
            return 404, {"Content-Type": "application/json"}, b'{"error": "no such media"}'
        return queue.popleft() if len(queue) > 1 else queue[0]


@pytest.fixture
def media_host() -> Iterator[MediaHost]:
    state = MediaHost()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(Recorded("GET", self.path, dict(self.headers.items()), b""))
            status, headers, body = state.answer(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()  # without Content-Length the body ends when the connection closes (HTTP/1.0)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the reader stopped at its limit
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


# --- accounts ----------------------------------------------------------------------------------------


@pytest.fixture
def mms(app, world, login_as, media_host) -> Sms:  # type: ignore[no-untyped-def]
    """A Twilio account whose API (and so its MediaUrls) is the media host."""
    admin = login_as(world.admin)
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "sms.twilio",
            "name": "MMS",
            "default_department_id": world.dept_a.id,
            "credentials": {"account_sid": SID, "auth_token": TOKEN},
            "settings": {"from_number": OUR_NUMBER, "api_base_url": media_host.url, "webhook_base_url": "http://localhost"},
        },
    )
    assert response.status_code == 201, response.json
    return Sms(app.test_client(), admin, response.json)


def _mms(mms: Sms, text: str, *media: tuple[str, str]):  # type: ignore[no-untyped-def]
    fields = {"NumMedia": str(len(media))}
    for i, (url, declared) in enumerate(media):
        fields |= {f"MediaUrl{i}": url, f"MediaContentType{i}": declared}
    response, sent = mms.inbound(text, **fields)
    assert response.status_code == 200
    return sent


def _media_url(sid: str, n: int) -> str:
    return f"/2010-04-01/Accounts/{SID}/Messages/{sid}/Media/ME{n:032d}"


@pytest.fixture
def settings_with(app, monkeypatch):  # type: ignore[no-untyped-def]
    def change(**fields: object) -> None:
        monkeypatch.setitem(app.config, "SERVICE_HUB", dataclasses.replace(app.config["SERVICE_HUB"], **fields))

    return change


def _record() -> InboundRecord:
    db.session.expire_all()
    return db.session.scalars(select(InboundRecord).order_by(InboundRecord.id.desc())).first()


def _inbound_messages(api, channel: str, text: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """The messages with this text on this channel's tickets, through the API."""
    found = []
    for ticket in api.get(f"/api/v1/tickets?channel={channel}").json["items"]:
        found += [m for m in api.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"] if m["body_text"] == text]
    return found


def _download(api, attachment: dict):  # type: ignore[no-untyped-def]
    response = api.get(attachment["download_url"])
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return response


# --- the tests -----------------------------------------------------------------------------------------


def test_twilio_mms_media_is_fetched_with_basic_auth_stored_and_downloadable(mms, media_host, world, login_as):
    sid = "MM" + "1" * 32
    url = media_host.file(_media_url(sid, 1), JPEG, "image/jpeg")
    fields = {"MessageSid": sid, "NumMedia": "1", "MediaUrl0": url, "MediaContentType0": "image/jpeg"}
    response, _ = mms.inbound("the router's lights", **fields)
    assert response.status_code == 200 and _record().status == RecordStatus.PROCESSED

    (fetch,) = media_host.got(_media_url(sid, 1))
    assert fetch.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()

    agent = login_as(world.agent_a)
    (message,) = _inbound_messages(agent, "sms", "the router's lights")
    (attachment,) = message["attachments"]
    assert attachment["status"] == "stored" and attachment["note"] is None
    assert attachment["media_type"] == "image/jpeg" and attachment["size"] == len(JPEG)
    assert attachment["message_id"] == message["id"] and attachment["filename"] == "attachment-1.jpg"
    download = _download(agent, attachment)
    assert download.data == JPEG and download.mimetype == "image/jpeg"

    timeline = agent.get(f"/api/v1/tickets/{attachment_ticket(attachment)}/timeline")
    assert timeline.status_code == 200  # the collab timeline lists a message's attachments too
    listed = [a for item in timeline.json["items"] for a in item.get("attachments", [])]
    assert [a["id"] for a in listed] == [attachment["id"]] and listed[0]["status"] == "stored"


def attachment_ticket(attachment: dict) -> int:  # type: ignore[type-arg]
    return db.session.get(Attachment, attachment["id"]).ticket_id  # type: ignore[union-attr]


def test_a_media_url_off_the_accounts_api_host_gets_no_credentials(mms, media_host, world, login_as):
    elsewhere = "http://localhost:9/steal-basic-auth"  # not the account's API host: never called
    _mms(mms, "look at this", (elsewhere, "image/jpeg"))
    assert _record().status == RecordStatus.PROCESSED and media_host.requests == []
    (message,) = _inbound_messages(login_as(world.agent_a), "sms", "look at this")
    (placeholder,) = message["attachments"]
    assert placeholder["status"] == "failed" and "not on the account's API host" in placeholder["note"]
    assert placeholder["download_url"] is None


def test_content_that_is_not_its_declared_type_is_never_served_as_that_type(mms, media_host, world, login_as):
    sid = "MM" + "2" * 32
    exe = media_host.file(_media_url(sid, 1), EXE, "image/png")
    page = media_host.file(_media_url(sid, 2), HTML, "image/jpeg")
    response, _ = mms.inbound(
        "two photos",
        MessageSid=sid,
        NumMedia="2",
        MediaUrl0=exe,
        MediaContentType0="image/png",
        MediaUrl1=page,
        MediaContentType1="image/jpeg",
    )
    assert response.status_code == 200
    agent = login_as(world.agent_a)
    (message,) = _inbound_messages(agent, "sms", "two photos")
    program, markup = message["attachments"]
    assert program["media_type"] == "application/x-msdownload"
    assert "declared image/png" in program["note"] and "application/x-msdownload" in program["note"]
    assert markup["media_type"] == "application/octet-stream" and "declared image/jpeg" in markup["note"]
    for attachment, body in ((program, EXE), (markup, HTML)):
        download = _download(agent, attachment)
        assert download.data == body and download.mimetype == "application/octet-stream"


def test_oversized_media_is_a_placeholder_and_the_message_is_kept(mms, media_host, world, login_as, settings_with):
    settings_with(max_attachment_bytes=4096)
    sid = "MM" + "3" * 32
    announced = media_host.file(_media_url(sid, 1), b"\xff\xd8\xff" + b"a" * 10_000, "image/jpeg")
    # No Content-Length: the size shows only while reading, which stops past the limit.
    streamed = media_host.serve(_media_url(sid, 2), (200, {"Content-Type": "image/jpeg"}, b"\xff\xd8\xff" + b"b" * 200_000))
    fine = media_host.file(_media_url(sid, 3), JPEG, "image/jpeg")
    response, _ = mms.inbound(
        "big ones",
        MessageSid=sid,
        NumMedia="3",
        MediaUrl0=announced,
        MediaContentType0="image/jpeg",
        MediaUrl1=streamed,
        MediaContentType1="image/jpeg",
        MediaUrl2=fine,
        MediaContentType2="image/jpeg",
    )
    assert response.status_code == 200 and _record().status == RecordStatus.PROCESSED
    agent = login_as(world.agent_a)
    (message,) = _inbound_messages(agent, "sms", "big ones")
    first, second, third = message["attachments"]
    for placeholder in (first, second):
        assert placeholder["status"] == "too_large" and "larger than the limit of 4096 bytes" in placeholder["note"]
        assert placeholder["size"] == 0 and placeholder["download_url"] is None
        assert agent.get(f"/api/v1/attachments/{placeholder['id']}/content").status_code == 404
    assert "10003 bytes" in first["note"]
    assert third["status"] == "stored" and _download(agent, third).data == JPEG


def test_a_provider_500_is_retried_and_the_attachment_stored_once(mms, media_host, world, login_as, sweep):
    sid = "MM" + "4" * 32
    url = media_host.serve(
        _media_url(sid, 1),
        (500, {"Content-Type": "text/plain"}, b"upstream broke"),
        (200, {"Content-Type": "image/jpeg", "Content-Length": str(len(JPEG))}, JPEG),
    )
    response, _ = mms.inbound("photo of the modem", MessageSid=sid, NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    assert response.status_code == 200
    record = _record()
    assert record.status == RecordStatus.FAILED and "500" in record.last_error and record.next_attempt_at is not None
    agent = login_as(world.agent_a)
    assert _inbound_messages(agent, "sms", "photo of the modem") == []  # nothing half-written: the whole attempt rolled back

    for _ in range(2):  # due again, swept; the second sweep finds it processed and does nothing
        record.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        sweep()
        record = _record()
    assert record.status == RecordStatus.PROCESSED and record.attempts == 2
    (message,) = _inbound_messages(agent, "sms", "photo of the modem")
    (attachment,) = message["attachments"]
    assert attachment["status"] == "stored" and _download(agent, attachment).data == JPEG
    assert db.session.scalar(select(db.func.count()).select_from(Attachment).where(Attachment.message_id == message["id"])) == 1
    assert len(media_host.got(_media_url(sid, 1))) == 2


def test_media_that_keeps_failing_leaves_a_placeholder_on_the_last_media_attempt(mms, media_host, world, login_as, sweep):
    sid = "MM" + "5" * 32
    url = media_host.serve(_media_url(sid, 1), (503, {}, b"busy"))
    mms.inbound("still no photo", MessageSid=sid, NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    for _ in range(2):
        record = _record()
        assert record.status == RecordStatus.FAILED
        record.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        sweep()
    record = _record()
    assert record.status == RecordStatus.PROCESSED and record.attempts == 3
    (message,) = _inbound_messages(login_as(world.agent_a), "sms", "still no photo")
    (placeholder,) = message["attachments"]
    assert placeholder["status"] == "failed" and "503" in placeholder["note"] and "gave up after 3 attempts" in placeholder["note"]


def test_whatsapp_image_is_fetched_in_two_steps_with_the_bearer_token(app, world, login_as, media_host):
    admin = login_as(world.admin)
    account = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "social.whatsapp",
            "name": "WhatsApp",
            "default_department_id": world.dept_a.id,
            "credentials": {"app_secret": META_SECRET, "access_token": META_TOKEN, "verify_token": VERIFY_TOKEN},
            "settings": {
                "phone_number_id": PHONE_NUMBER_ID,
                "graph_version": "v21.0",
                "api_base_url": media_host.url,
                "webhook_base_url": "http://localhost",
            },
        },
    )
    assert account.status_code == 201, account.json
    media_id = "1037543291543636"
    cdn = media_host.file("/whatsapp_business/attachments/?mid=1037543291543636&ext=1", PNG, "image/png")
    media_host.serve(
        f"/v21.0/{media_id}",
        (200, {"Content-Type": "application/json"}, f'{{"url": "{cdn}", "mime_type": "image/png", "file_size": {len(PNG)}}}'.encode()),
    )
    body = whatsapp_value(
        contacts=[{"profile": {"name": "Li Lei"}, "wa_id": WA_ID}],
        messages=[
            {
                "from": WA_ID,
                "id": "wamid.image-1",
                "timestamp": str(int(time.time())),
                "type": "image",
                "image": {"id": media_id, "mime_type": "image/png", "sha256": "x", "caption": "the broken cable"},
            }
        ],
    )
    hook = app.test_client().post(
        account.json["webhook_urls"]["message"],
        data=body,
        headers={"X-Hub-Signature-256": meta_signature(body)},
        content_type="application/json",
    )
    assert hook.status_code == 200 and _record().status == RecordStatus.PROCESSED
    lookup, download = media_host.requests
    assert lookup.path == f"/v21.0/{media_id}" and download.path == cdn.removeprefix(media_host.url)
    assert lookup.headers["Authorization"] == download.headers["Authorization"] == f"Bearer {META_TOKEN}"

    agent = login_as(world.agent_a)
    (message,) = _inbound_messages(agent, "whatsapp", "[image] the broken cable")
    (attachment,) = message["attachments"]
    assert attachment["status"] == "stored" and attachment["media_type"] == "image/png"
    assert _download(agent, attachment).data == PNG


@pytest.fixture
def mail_listener(app, world, login_as):  # type: ignore[no-untyped-def]
    admin = login_as(world.admin)
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "email.mailbox",
            "name": "Support mail",
            "default_department_id": world.dept_a.id,
            "credentials": {"imap_password": "x", "smtp_password": "x"},
            "settings": {"address": DESK, "smtp_host": "127.0.0.1", "smtp_port": "25", "smtp_security": "none"},
        },
    )
    assert response.status_code == 201, response.json
    listener = controller(app, port=free_port())
    listener.start()
    yield listener.port
    listener.stop()


def test_mail_attachments_and_inline_cid_images_reach_the_ticket(mail_listener, world, login_as):
    mail = EmailMessage()
    mail["From"] = "Zhang Wei <zhang.wei@example.cn>"
    mail["To"] = DESK
    mail["Subject"] = "发票和截图"
    mail["Message-ID"] = "<media-1@example.cn>"
    mail.set_content("See the screenshot and the invoice.")
    mail.add_alternative('<p>See the screenshot: <img src="cid:shot-1@example.cn" alt="shot"> and the invoice.</p>', subtype="html")
    mail.get_payload()[1].add_related(PNG, "image", "png", cid="<shot-1@example.cn>", filename="shot.png")
    mail.add_attachment(PDF, "application", "pdf", filename="../../etc/发票\u202e.pdf")
    try:
        send(mail_listener, mail.as_bytes(policy=policy.SMTP), sender="zhang.wei@example.cn")
    except smtplib.SMTPException as exc:  # pragma: no cover - the listener refused it
        pytest.fail(f"the listener refused the mail: {exc}")
    assert _record().status == RecordStatus.PROCESSED

    agent = login_as(world.agent_a)
    (ticket,) = [t for t in agent.get("/api/v1/tickets?channel=email").json["items"] if t["subject"] == "发票和截图"]
    (message,) = agent.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"]
    by_name = {a["filename"]: a for a in message["attachments"]}
    assert set(by_name) == {"shot.png", "_.._etc_发票.pdf"}  # no directories, no bidi override
    shot, invoice = by_name["shot.png"], by_name["_.._etc_发票.pdf"]
    assert shot["media_type"] == "image/png" and invoice["media_type"] == "application/pdf"
    assert "cid:" not in message["body_html"] and f'src="/api/v1/attachments/{shot["id"]}/content"' in message["body_html"]
    assert _download(agent, shot).data == PNG
    assert _download(agent, invoice).data == PDF


def test_filenames_lose_paths_controls_and_length():
    from service_hub.inbound.media_intake import safe_filename

    assert safe_filename("..\\..\\windows\\evil.exe", "application/octet-stream", 0) == "evil.exe"
    assert safe_filename("/etc/passwd", "text/plain", 0) == "passwd"
    assert safe_filename("a\r\nX-Injected: 1\x00.txt", "text/plain", 0) == "aX-Injected: 1.txt"
    assert safe_filename("invoice\u202egpj.exe", "image/jpeg", 0) == "invoicegpj.exe"  # no right-to-left override
    assert safe_filename("...", "image/png", 2) == "attachment-3.png"
    assert safe_filename(None, "application/x-unknown-thing", 0) == "attachment-1.bin"
    long = safe_filename("x" * 500 + ".pdf", "application/pdf", 0)
    assert len(long) == 200 and long.endswith("x.pdf")
