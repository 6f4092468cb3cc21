"""The IMAP poller against a real Dovecot: mail appended with imaplib becomes tickets through the API, is
flagged \\Seen or moved only after the inbox committed it, is never taken twice (re-polls, a crash
between intake and flagging, a changed UIDVALIDITY), and one broken account does not stop the others."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from service_hub.core.extensions import db
from service_hub.inbound import imap_poller
from service_hub.inbound.email_models import ImapFolderState
from service_hub.inbound.models import InboundRecord
from tests.inbound.dovecot import PASSWORD, Dovecot
from tests.inbound.dovecot import dovecot as dovecot

DESK = "support@desk.example.com"
_mails = itertools.count(1)


def mail(subject: str, sender: str = "li.na@example.cn", body: str = "打印机又卡纸了。", **headers: str) -> bytes:
    number = next(_mails)
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (
        f"From: Li Na <{sender}>\r\nTo: {DESK}\r\nSubject: {subject}\r\nMessage-ID: <imap-{number}@example.cn>\r\n"
        f"Date: Mon, 24 Nov 2025 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n{extra}\r\n{body}\r\n"
    ).encode()


@dataclass
class Mailbox:
    account: dict[str, Any]
    user: str
    server: Dovecot
    app: Any

    @property
    def id(self) -> int:
        return int(self.account["id"])

    def poll(self) -> imap_poller.PollResult:
        with self.app.app_context():
            return imap_poller.poll_account(self.id)

    def state(self, folder: str = "INBOX") -> ImapFolderState:
        with self.app.app_context():
            state = db.session.get(ImapFolderState, (self.id, folder))
            assert state is not None
            db.session.refresh(state)
            return state


@pytest.fixture
def make_mailbox(app, world, login_as, dovecot):  # type: ignore[no-untyped-def]
    admin = login_as(world.admin)

    def make(password: str = PASSWORD, **settings: str) -> Mailbox:
        user = dovecot.new_user()
        response = admin.post(
            "/api/v1/channel-accounts",
            json={
                "kind": "email.mailbox",
                "name": f"Support mail {user}",
                "default_department_id": world.dept_a.id,
                "credentials": {"imap_password": password, "smtp_password": "x"},
                "settings": {
                    "address": DESK,
                    "imap_host": "127.0.0.1",
                    "imap_port": str(dovecot.port),
                    "imap_security": "none",
                    "imap_user": user,
                    **settings,
                },
            },
        )
        assert response.status_code == 201, response.json
        return Mailbox(response.json, user, dovecot, app)

    return make


def email_tickets(api) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [t for t in api.get("/api/v1/tickets?channel=email&limit=100").json["items"] if t["subject"].startswith("IMAP ")]


def test_poll_takes_new_mail_flags_it_seen_and_resumes_by_uid(make_mailbox, world, login_as) -> None:  # type: ignore[no-untyped-def]
    box = make_mailbox()
    agent = login_as(world.agent_a)
    box.server.append(box.user, mail("IMAP 打印机卡纸"))
    box.server.append(box.user, mail("IMAP 宽带断线", sender="wang.fang@example.cn"))

    first = box.poll()
    assert (first.taken, first.duplicates, first.error) == (2, 0, None)
    assert sorted(t["subject"] for t in email_tickets(agent)) == ["IMAP 宽带断线", "IMAP 打印机卡纸"]
    assert box.server.flags(box.user) == {1: {"\\Seen"}, 2: {"\\Seen"}}
    state = box.state()
    assert (state.last_uid, state.uidvalidity, state.last_error) == (2, box.server.uidvalidity(box.user, "INBOX"), None)

    again = box.poll()  # "UID 3:*" still matches UID 2 on the server: nothing is taken twice
    assert (again.taken, again.duplicates) == (0, 0)
    assert len(email_tickets(agent)) == 2

    box.server.append(box.user, mail("IMAP 发票抬头错了"))
    third = box.poll()
    assert third.taken == 1
    assert len(email_tickets(agent)) == 3
    assert box.state().last_uid == 3
    assert box.server.flags(box.user)[3] == {"\\Seen"}


def test_crash_after_intake_before_flagging_takes_the_mail_once(make_mailbox, world, login_as, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    box = make_mailbox()
    agent = login_as(world.agent_a)
    box.server.append(box.user, mail("IMAP 崩溃之后"))

    def crash(*args: Any) -> None:
        raise ConnectionResetError("the poller died before flagging")

    monkeypatch.setattr(imap_poller, "_dispose", crash)
    crashed = box.poll()
    assert crashed.taken == 1 and "ConnectionResetError" in (crashed.error or "")
    assert box.server.flags(box.user) == {1: set()}  # stored, but not flagged
    state = box.state()
    assert (state.last_uid, state.attempts) == (0, 1) and "died before flagging" in (state.last_error or "")
    assert len(email_tickets(agent)) == 1

    monkeypatch.undo()
    retaken = box.poll()
    assert (retaken.taken, retaken.duplicates, retaken.error) == (0, 1, None)  # the inbox knew it
    assert box.server.flags(box.user) == {1: {"\\Seen"}}
    (ticket,) = email_tickets(agent)
    assert len(agent.get(f"/api/v1/tickets/{ticket['id']}/messages").json["items"]) == 1
    state = box.state()
    assert (state.last_uid, state.attempts, state.last_error) == (1, 0, None)
    with box.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(InboundRecord.account_id == box.id)) == 1


@pytest.mark.parametrize("with_move", [True, False], ids=["uid-move", "copy-deleted-expunge"])
def test_taken_mail_is_moved_to_the_processed_folder(make_mailbox, world, login_as, monkeypatch, with_move) -> None:  # type: ignore[no-untyped-def]
    box = make_mailbox()
    admin, agent = login_as(world.admin), login_as(world.agent_a)
    box.server.append(box.user, mail("IMAP 早先的"))
    assert box.poll().taken == 1
    with box.server.client(box.user) as client:  # someone marks the taken mail \Deleted: our expunge must spare it
        client.select("INBOX")
        client.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
    changed = admin.patch(
        f"/api/v1/channel-accounts/{box.id}", json={"settings": box.account["settings"] | {"imap_processed_folder": "Processed"}}
    )
    assert changed.status_code == 200, changed.json
    if not with_move:  # a server without RFC 6851 MOVE: COPY, \Deleted, UID EXPUNGE of that UID only
        real = imap_poller._capabilities
        monkeypatch.setattr(imap_poller, "_capabilities", lambda client: real(client) - {"MOVE"})
    box.server.append(box.user, mail("IMAP 归档"))
    box.server.append(box.user, mail("IMAP 第二封"))

    result = box.poll()
    assert (result.taken, result.error) == (2, None)
    assert box.server.flags(box.user) == {1: {"\\Seen", "\\Deleted"}}  # 2 and 3 moved, 1 untouched
    moved = box.server.flags(box.user, "Processed")
    assert len(moved) == 2 and all("\\Deleted" not in flags for flags in moved.values())
    assert len(email_tickets(agent)) == 3
    assert box.poll().taken == 0


def test_a_new_uidvalidity_starts_the_folder_again(make_mailbox, world, login_as) -> None:  # type: ignore[no-untyped-def]
    box = make_mailbox(imap_folder="Support")
    agent = login_as(world.agent_a)
    with box.server.client(box.user) as client:
        client.create('"Support"')
    box.server.append(box.user, mail("IMAP 旧文件夹 1"), "Support")
    box.server.append(box.user, mail("IMAP 旧文件夹 2"), "Support")
    assert box.poll().taken == 2
    old_state = box.state("Support")
    old_uidvalidity = old_state.uidvalidity
    assert old_state.last_uid == 2

    box.server.recreate(box.user, "Support")  # the server renumbered the folder: UID 1 is a new mail
    box.server.append(box.user, mail("IMAP 新文件夹"), "Support")
    result = box.poll()
    assert (result.taken, result.error) == (1, None)
    state = box.state("Support")
    assert state.uidvalidity == box.server.uidvalidity(box.user, "Support") != old_uidvalidity
    assert state.last_uid == 1
    assert len(email_tickets(agent)) == 3


def test_a_failing_account_does_not_stop_the_others(make_mailbox, world, login_as, app) -> None:  # type: ignore[no-untyped-def]
    broken = make_mailbox(password="wrong-password")
    good = make_mailbox()
    good.server.append(good.user, mail("IMAP 正常的邮箱"))
    good.server.append(broken.user, mail("IMAP 密码错误的邮箱"))

    with app.app_context():
        totals = imap_poller.poll_all()
    assert totals["failed"] >= 1 and totals["taken"] >= 1
    assert [t["subject"] for t in email_tickets(login_as(world.agent_a))] == ["IMAP 正常的邮箱"]
    state = broken.state()
    assert state.attempts == 1 and "AUTHENTICATIONFAILED" in (state.last_error or "")
    assert good.state().last_error is None
    assert good.server.flags(broken.user) == {1: set()}  # untouched, waits for the right password


def test_polls_are_bounded_and_oversized_mail_stays_on_the_server(make_mailbox, channel_settings) -> None:  # type: ignore[no-untyped-def]
    channel_settings(imap_max_per_poll=2)
    box = make_mailbox(max_bytes="2000")
    box.server.append(box.user, mail("IMAP 一"))
    box.server.append(box.user, mail("IMAP 太大", body="大" * 2000))
    box.server.append(box.user, mail("IMAP 三"))

    first = box.poll()
    assert (first.taken, first.oversized) == (1, [2])
    assert "UIDs [2]" in (box.state().last_error or "")
    second = box.poll()
    assert (second.taken, second.oversized) == (1, [])
    assert box.server.flags(box.user) == {1: {"\\Seen"}, 2: set(), 3: {"\\Seen"}}
    assert box.state().last_uid == 3


def test_private_imap_hosts_are_refused_unless_allowed(make_mailbox, channel_settings) -> None:  # type: ignore[no-untyped-def]
    box = make_mailbox()
    box.server.append(box.user, mail("IMAP 内网"))
    channel_settings(allow_private_urls=False)
    result = box.poll()
    assert result.taken == 0 and "private, loopback" in (result.error or "")
    assert box.server.flags(box.user) == {1: set()}


def test_a_second_poller_skips_a_locked_account(make_mailbox, backend, app) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite runs one poller")
    box = make_mailbox()
    box.server.append(box.user, mail("IMAP 锁"))
    with app.app_context(), db.engine.connect() as other:
        key = {"c": imap_poller.IMAP_LOCK_CLASS, "a": box.id}
        assert other.scalar(sa.text("SELECT pg_try_advisory_lock(:c, :a)"), key)
        assert box.poll().locked
        assert box.server.flags(box.user) == {1: set()}
        other.scalar(sa.text("SELECT pg_advisory_unlock(:c, :a)"), key)
    assert box.poll().taken == 1


def test_cli_and_scheduler_job(make_mailbox, app) -> None:  # type: ignore[no-untyped-def]
    box = make_mailbox()
    box.server.append(box.user, mail("IMAP 命令行"))
    out = app.test_cli_runner().invoke(args=["channels", "poll-imap", "--account", str(box.id)])
    assert out.exit_code == 0, out.output
    assert "taken=1" in out.output

    from service_hub.scheduler import add_jobs

    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    job = scheduler.get_job("imap_poll")
    assert job is not None and job.trigger.interval.total_seconds() == 60 and job.max_instances == 1 and job.coalesce


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"imap_security": "tls-maybe"}, "imap_security"),
        ({"imap_port": "99999"}, "imap_port"),
        ({"imap_folder": 'IN"BOX'}, "imap_folder"),
        ({"imap_processed_folder": "inbox"}, "imap_processed_folder"),
    ],
)
def test_imap_settings_are_validated_over_the_api(app, world, login_as, settings, field) -> None:  # type: ignore[no-untyped-def]
    response = login_as(world.admin).post(
        "/api/v1/channel-accounts",
        json={
            "kind": "email.mailbox",
            "name": "Bad mail settings",
            "default_department_id": world.dept_a.id,
            "credentials": {"imap_password": "x", "smtp_password": "x"},
            "settings": {"address": DESK, "imap_host": "imap.example.com", **settings},
        },
    )
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["settings"]
