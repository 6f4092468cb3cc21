"""Mail end to end: smtplib to the listener, the ticket, a reply over SMTP with the thread's headers, the answer
threading back, a bounce attached to its ticket, an unthreaded auto-reply opening nothing, the 552 size limit."""

# ruff: noqa: RUF001 - Chinese text uses fullwidth punctuation on purpose
from __future__ import annotations

import smtplib
import socket
import time
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from service_hub.inbound.smtp_listener import controller

CORPUS = Path(__file__).parent.parent / "channels" / "email" / "corpus"
DESK = "support@desk.example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.mails.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_out():  # type: ignore[no-untyped-def]
    recorder = Recorder()
    ctl = Controller(recorder, hostname="127.0.0.1", port=free_port())
    ctl.start()
    yield recorder, ctl.port
    ctl.stop()


@pytest.fixture
def mailbox(app, world, login_as, smtp_out):  # type: ignore[no-untyped-def]
    admin = login_as(world.admin)
    response = admin.post(
        "/api/v1/channel-accounts",
        json={
            "kind": "email.mailbox",
            "name": "Support mail",
            "default_department_id": world.dept_a.id,
            "credentials": {"imap_password": "x", "smtp_password": "x"},
            "settings": {
                "address": DESK,
                "display_name": "客服中心",
                "smtp_host": "127.0.0.1",
                "smtp_port": str(smtp_out[1]),
                "smtp_security": "none",
                "max_bytes": "200000",
            },
        },
    )
    assert response.status_code == 201, response.json
    listener = controller(app, port=free_port())
    listener.start()
    yield listener.port
    listener.stop()


def send(port: int, raw: bytes, sender: str = "customer@example.cn") -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail(sender, [DESK], raw)


_BEFORE: set[int] = set()


def tickets(api):  # type: ignore[no-untyped-def]
    """The email tickets this test made (the shared world has some of its own)."""
    return [t for t in api.get("/api/v1/tickets?channel=email").json["items"] if t["id"] not in _BEFORE]


def test_mail_in_reply_out_answer_threads_bounce_and_auto_reply(mailbox, smtp_out, world, login_as):
    agent = login_as(world.agent_a)
    _BEFORE.clear()
    _BEFORE.update(t["id"] for t in tickets(agent))
    send(mailbox, (CORPUS / "gb2312_mislabelled.eml").read_bytes())
    send(mailbox, (CORPUS / "gb2312_mislabelled.eml").read_bytes())  # the same Message-ID again: one message
    found = tickets(agent)
    assert [t["subject"] for t in found] == ["宽带断线 镕"], found
    (ticket,) = found
    assert ticket["subject"] == "宽带断线 镕"

    reply = agent.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"kind": "reply", "body_text": "您好，师傅明天上门。"})
    assert reply.status_code == 201, reply.json
    (raw_out,) = smtp_out[0].mails
    out = message_from_bytes(raw_out)
    assert out["In-Reply-To"] == "<gb2312-1@mail.example.cn>"
    assert f"[#{ticket['number']}]" in str(out["Subject"]) and out["To"] == "zhang.wei@example.cn"
    our_id = out["Message-ID"]

    answer = (
        f"From: zhang.wei@example.cn\r\nTo: {DESK}\r\nSubject: Re: something else\r\nMessage-ID: <answer-1@example.cn>\r\n"
        f"In-Reply-To: {our_id}\r\nReferences: <gb2312-1@mail.example.cn> {our_id}\r\n\r\nstill broken\r\n"
    ).encode()
    send(mailbox, answer)
    assert len(tickets(agent)) == 1
    messages = agent.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"]
    assert [m["body_text"].strip() for m in messages][-1] == "still broken"

    bounce = (CORPUS / "bounce_dsn.eml").read_bytes().replace(b"<desk-out-1@desk.example.com>", our_id.encode())
    send(mailbox, bounce, sender="")
    assert len(tickets(agent)) == 1
    reply_message = next(m for m in agent.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"] if m["id"] == reply.json["id"])
    assert reply_message["delivery_status"] == "failed"

    send(mailbox, (CORPUS / "auto_submitted.eml").read_bytes())
    assert len(tickets(agent)) == 1  # an out-of-office to nothing we know opens nothing
    assert len(smtp_out[0].mails) == 1  # and is never answered


def test_oversized_mail_gets_552(mailbox):
    big = b"From: a@example.com\r\nSubject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 3500
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(mailbox, big)
    assert refused.value.smtp_code == 552


def test_a_mail_flood_from_one_sender_threads_quietly_instead_of_opening_tickets(mailbox, world, login_as, channel_settings):  # type: ignore[no-untyped-def]
    channel_settings(mail_flood_threshold=3, mail_flood_window_seconds=600)
    agent = login_as(world.agent_a)

    def flood_mail(n: int, sender: str = "robot@example.cn") -> bytes:
        # No Auto-Submitted, no Precedence: a broken auto-responder or script looks like a person.
        return (
            f"From: {sender}\r\nTo: {DESK}\r\nSubject: FLOOD {sender} {n}\r\nMessage-ID: <flood-{n}-{sender}>\r\n\r\nautomatic text {n}\r\n"
        ).encode()

    def flood_tickets() -> list[dict]:  # type: ignore[type-arg]
        items = agent.get("/api/v1/tickets?channel=email&limit=100").json["items"]
        return sorted((t for t in items if t["subject"].startswith("FLOOD robot")), key=lambda t: t["id"])

    for n in range(1, 4):
        send(mailbox, flood_mail(n), sender="robot@example.cn")
    before = flood_tickets()[-1]
    for n in range(4, 7):
        send(mailbox, flood_mail(n), sender="robot@example.cn")
    found = flood_tickets()
    assert [t["subject"] for t in found] == [f"FLOOD robot@example.cn {n}" for n in (1, 2, 3)]
    latest = found[-1]
    texts = [m["body_text"].strip() for m in agent.get(f"/api/v1/tickets/{latest['id']}/messages").json["items"]]
    assert texts == ["automatic text 3", "automatic text 4", "automatic text 5", "automatic text 6"]  # stored, nothing lost
    after = agent.get(f"/api/v1/tickets/{latest['id']}").json
    assert (after["status"], after["next_due_at"]) == (before["status"], before["next_due_at"])  # no reopen, no new clock

    send(mailbox, flood_mail(1, "person@example.cn"), sender="person@example.cn")  # others are not capped
    items = agent.get("/api/v1/tickets?channel=email&limit=100").json["items"]
    assert any(t["subject"] == "FLOOD person@example.cn 1" for t in items)

    channel_settings(mail_flood_window_seconds=1)  # once the window has passed, the sender opens tickets again
    time.sleep(1.1)
    send(mailbox, flood_mail(7), sender="robot@example.cn")
    assert len(flood_tickets()) == 4
