"""The mail parser on the corpus: every encoding, structure, loop signal and hostile input listed in issue 3."""

# ruff: noqa: RUF001 - Chinese text uses fullwidth punctuation on purpose
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.base import TooLarge
from channels.email.loops import Automation
from channels.email.parse import MailLimits, parse_mail, provider_id, ticket_number_in, to_inbound

CORPUS = Path(__file__).parent / "corpus"


def mail(name: str, limits: MailLimits | None = None):  # type: ignore[no-untyped-def]
    return parse_mail((CORPUS / name).read_bytes(), limits)


@pytest.mark.parametrize(
    ("name", "sender_name", "subject", "text"),
    [
        ("gb2312_mislabelled.eml", "张伟", "宽带断线 镕", "朱镕基路"),  # GBK characters under a gb2312 label
        ("gb18030_qp.eml", "李娜", "发票抬头", "𠀀 请更正"),
        ("big5.eml", "陳大文", "查詢維修進度", "升降機𨋢維修"),
        ("iso2022jp.eml", "山田太郎", "請求書について", "お世話になっております"),
        ("utf8_labelled_latin1.eml", "Zoë Dupont", "Café réservation — ça ne marche pas", "échoué. Merci 🙏"),
        ("undeclared_gbk.eml", None, "no charset", "退款什么时候到账"),
        ("exchange_oof.eml", None, "自动回复: 在休假", "Away"),
    ],
)
def test_charsets_and_encoded_words(name: str, sender_name: str | None, subject: str, text: str) -> None:
    parsed = mail(name)
    assert parsed.sender_name == sender_name
    assert parsed.subject == subject
    assert text in parsed.text
    assert "\ufffd" not in parsed.text + parsed.subject


def test_sender_address_domain_lowercased() -> None:
    assert mail("gb2312_mislabelled.eml").sender == "zhang.wei@example.cn"


def test_unknown_charset_nul_and_invalid_bytes_import_with_replacements() -> None:
    parsed = mail("unknown_charset_nul.eml")
    assert parsed.subject == "Hello"
    assert "\x00" not in parsed.text and parsed.text.startswith("caf")


def test_multipart_alternative_cid_images_and_attachments() -> None:
    parsed = mail("multipart_cid_attachments.eml")
    assert parsed.sender_name == "O'Brien, Pat" and parsed.subject == "Printer – screenshot attached"
    assert parsed.text.startswith("See the screenshot – printer")
    shot, invoice, fake = parsed.parts
    assert shot.content_id == "shot1@example.com" and shot.inline and parsed.cid_map == {"shot1@example.com": 0}
    assert invoice.filename == "发票.pdf" and invoice.sniffed_type == "application/pdf" and not invoice.type_mismatch
    # An executable declared as image/png: flagged, so it is stored as a download, never served inline.
    assert fake.declared_type == "image/png" and fake.sniffed_type == "application/x-msdownload" and fake.type_mismatch


def test_html_is_sanitised_scripts_handlers_javascript_svg_base_form() -> None:
    html = mail("multipart_cid_attachments.eml").html or ""
    assert 'src="cid:shot1@example.com"' in html
    for bad in ("<script", "onload", "onerror", "javascript:", "<svg", "<base", "<form", "<input", "alert"):
        assert bad not in html


def test_forwarded_mail_is_recognised() -> None:
    parsed = mail("forwarded.eml")
    assert parsed.forwarded and parsed.text.startswith("Please handle this one.")


def test_threading_headers_and_ticket_number() -> None:
    parsed = mail("reply_threaded.eml")
    assert parsed.subject == "回复: Re: 宽带断线 [#10042]" and ticket_number_in(parsed.subject) == 10042
    assert parsed.thread_ids == ("desk-out-1@desk.example.com", "gb2312-1@mail.example.cn")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("auto_submitted.eml", Automation.AUTO_REPLY),
        ("precedence_bulk.eml", Automation.BULK),
        ("list_id.eml", Automation.LIST),
        ("x_autoreply.eml", Automation.AUTO_REPLY),
        ("exchange_oof.eml", Automation.AUTO_REPLY),
        ("bounce_dsn.eml", Automation.BOUNCE),
        ("gb2312_mislabelled.eml", Automation.HUMAN),
    ],
)
def test_loop_and_noise_detection(name: str, kind: Automation) -> None:
    parsed = mail(name)
    assert parsed.automation is kind
    assert parsed.automation.answerable is (kind is Automation.HUMAN)


def test_a_bounce_names_the_message_it_bounces() -> None:
    assert mail("bounce_dsn.eml").bounced_message_id == "desk-out-1@desk.example.com"


def test_broken_headers_still_import() -> None:
    parsed = mail("broken_headers.eml")
    assert parsed.sender == "weird@example.com"
    assert parsed.subject.startswith("客户投诉") and parsed.date is None
    assert parsed.message_id == "no-brackets-id@example.com"
    assert parsed.parts[0].filename == "data.bin" and parsed.defects


def test_oversized_mail_is_refused_before_parsing_and_big_attachments_are_not_kept() -> None:
    raw = (CORPUS / "multipart_cid_attachments.eml").read_bytes()
    with pytest.raises(TooLarge):
        parse_mail(raw, MailLimits(max_bytes=len(raw) - 1))
    parsed = parse_mail(raw, MailLimits(max_attachment_bytes=50))
    assert [p.oversized for p in parsed.parts] == [True, False, True]
    assert parsed.parts[0].content == b"" and any("size limit" in d for d in parsed.defects)


def test_deep_nesting_and_part_count_are_bounded() -> None:
    inner = b"Content-Type: text/plain\r\n\r\nhi\r\n"
    for level in range(30):
        inner = f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode() + inner + f"--b{level}--\r\n".encode()
    raw = b"From: a@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n" + inner
    parsed = parse_mail(raw, MailLimits(max_depth=5))
    assert "nested too deep" in parsed.defects and parsed.text == ""


def test_to_inbound_and_provider_id() -> None:
    raw = (CORPUS / "reply_threaded.eml").read_bytes()
    assert provider_id(raw) == "reply-1@mail.example.cn"
    assert provider_id(b"From: a@example.com\r\n\r\nno id").startswith("sha256:")
    message = to_inbound(parse_mail(raw), account="acc", raw_ref="inbound:1", received_at=datetime.now(UTC), fallback_id="x")
    assert message.channel == "email" and message.sender_kind == "email" and message.sender == "zhang.wei@example.cn"
    assert message.extra["ticket_number"] == "10042" and message.extra["automation"] == "human"
    assert message.extra["thread_ids"] == "<desk-out-1@desk.example.com> <gb2312-1@mail.example.cn>"
