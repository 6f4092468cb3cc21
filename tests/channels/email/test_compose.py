"""Outgoing mail: Message-ID, threading headers, the ticket number in the subject, no header injection."""

# ruff: noqa: RUF001 - Chinese text uses fullwidth punctuation on purpose
from __future__ import annotations

import pytest

from channels.email.compose import HeaderInjection, OutgoingMail, compose, thread_subject
from channels.email.parse import parse_mail


def outgoing(**changes: object) -> OutgoingMail:
    fields: dict[str, object] = {
        "from_address": "support@desk.example.com",
        "from_name": "客服中心",
        "to_address": "zhang.wei@example.cn",
        "subject": "回复: Re: 宽带断线 [#10042]",
        "text": "您好，师傅明天上门。",
        "domain": "desk.example.com",
        "ticket_number": 10042,
        "in_reply_to": "reply-1@mail.example.cn",
        "references": ("gb2312-1@mail.example.cn",),
    }
    return OutgoingMail(**(fields | changes))  # type: ignore[arg-type]


def test_threading_headers_message_id_and_subject_round_trip() -> None:
    message = compose(outgoing())
    raw = message.as_bytes()
    parsed = parse_mail(raw)
    assert parsed.subject == "Re: 宽带断线 [#10042]"
    assert parsed.message_id and parsed.message_id.endswith("@desk.example.com")
    assert parsed.in_reply_to == ("reply-1@mail.example.cn",)
    assert parsed.references == ("gb2312-1@mail.example.cn", "reply-1@mail.example.cn")
    assert parsed.sender_name == "客服中心" and parsed.text.strip() == "您好，师傅明天上门。"
    assert "Auto-Submitted" not in message


def test_automatic_mail_says_so() -> None:
    assert compose(outgoing(auto_generated=True))["Auto-Submitted"] == "auto-replied"


def test_subject_prefixes_and_old_tags_are_not_stacked() -> None:
    assert thread_subject("Re: RE: Fwd: 发票 [#7]", 7) == "Re: 发票 [#7]"
    assert thread_subject("", 8) == "Re: (no subject) [#8]"


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "hello\r\nBcc: victim@example.com"},
        {"subject": "hello\nX-Evil: 1"},
        {"to_address": "a@example.com\r\nBcc: victim@example.com"},
        {"to_address": "a@example.com, victim@example.com"},
        {"to_address": "Name <a@example.com>"},
        {"from_name": "Desk\r\nBcc: victim@example.com"},
        {"in_reply_to": "x@y\r\nBcc: v@example.com"},
    ],
)
def test_header_injection_is_refused(changes: dict[str, str]) -> None:
    with pytest.raises(HeaderInjection):
        compose(outgoing(**changes))
