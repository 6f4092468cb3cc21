"""Writes corpus/*.eml: real-looking raw mails in every encoding the parser must survive.

Run once (`python tests/channels/email/make_corpus.py`); the .eml files are the fixtures, this is
how they were made (GBK, Big5 and ISO-2022-JP bytes are easier to produce than to type).
"""

# ruff: noqa: RUF001 - Chinese text uses fullwidth punctuation on purpose
from __future__ import annotations

import base64
import os
import quopri

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def w(name: str, head: str, body: bytes) -> None:
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(head.replace("\n", "\r\n").encode("ascii") + b"\r\n" + body)


def b64(b: bytes) -> bytes:
    return base64.encodebytes(b).replace(b"\n", b"\r\n")


def ew(text: str, cs: str) -> str:
    return f"=?{cs}?B?{base64.b64encode(text.encode(cs if cs.lower() != 'gb2312' else 'gbk')).decode()}?="


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def main() -> None:
    os.makedirs(HERE, exist_ok=True)
    # GB2312 label carrying a GBK-only character (镕), base64 body, RFC 2047 name.
    body = "您好，我的宽带从昨天开始断线，朱镕基路的网点说要找客服。".encode("gbk")
    w(
        "gb2312_mislabelled.eml",
        f"""Return-Path: <zhang.wei@example.cn>
From: {ew("张伟", "gb2312")} <zhang.wei@Example.CN>
To: support@desk.example.com
Subject: {ew("宽带断线 镕", "gb2312")}
Date: Mon, 02 Nov 2026 09:15:00 +0800
Message-ID: <gb2312-1@mail.example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64
""",
        b64(body),
    )
    # GB18030 with a four-byte character, quoted-printable.
    body = "订单号 A-1001 的发票抬头错了 𠀀 请更正".encode("gb18030")
    w(
        "gb18030_qp.eml",
        f"""From: {ew("李娜", "GB18030")} <li.na@example.cn>
To: support@desk.example.com
Subject: {ew("发票抬头", "GB18030")}
Date: Mon, 02 Nov 2026 10:00:00 +0800
Message-ID: <gb18030-1@mail.example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset=GB18030
Content-Transfer-Encoding: quoted-printable
""",
        quopri.encodestring(body).replace(b"\n", b"\r\n"),
    )
    # Big5 labelled, with an HKSCS character, 8bit.
    body = "你好，我想查詢升降機𨋢維修進度。".encode("big5hkscs")
    w(
        "big5.eml",
        f"""From: {ew("陳大文", "big5")} <chan.taiman@example.hk>
To: support@desk.example.com
Subject: {ew("查詢維修進度", "big5")}
Date: Tue, 03 Nov 2026 11:00:00 +0800
Message-ID: <big5-1@mail.example.hk>
MIME-Version: 1.0
Content-Type: text/plain; charset=big5
Content-Transfer-Encoding: 8bit
""",
        body + b"\r\n",
    )
    # ISO-2022-JP, 7bit.
    body = "お世話になっております。請求書の件でご連絡しました。".encode("iso2022_jp")
    w(
        "iso2022jp.eml",
        f"""From: {ew("山田太郎", "iso-2022-jp")} <yamada@example.jp>
To: support@desk.example.com
Subject: {ew("請求書について", "ISO-2022-JP")}
Date: Tue, 03 Nov 2026 12:00:00 +0900
Message-ID: <iso2022-1@mail.example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit
""",
        body + b"\r\n",
    )
    # UTF-8 labelled iso-8859-1, and a raw 8-bit UTF-8 subject and name (no encoded words).
    with open(os.path.join(HERE, "utf8_labelled_latin1.eml"), "wb") as f:
        f.write(
            b"From: Zo\xc3\xab Dupont <zoe@example.fr>\r\nTo: support@desk.example.com\r\nSubject: "
            + "Café réservation — ça ne marche pas".encode()
            + b"\r\nDate: Wed, 04 Nov 2026 08:00:00 +0100\r\nMessage-ID: <mislabel-1@example.fr>\r\nMIME-Version: 1.0\r\n"
            + b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + "Bonjour, la réservation n° 42 a échoué. Merci 🙏".encode()
            + b"\r\n"
        )
    # No charset at all: raw GBK bytes.
    with open(os.path.join(HERE, "undeclared_gbk.eml"), "wb") as f:
        f.write(
            crlf(
                "From: wang@example.cn\nTo: support@desk.example.com\nSubject: no charset\nMessage-ID: <nocharset-1@example.cn>\n"
                "MIME-Version: 1.0\nContent-Type: text/plain\n\n"
            )
            + "退款什么时候到账？".encode("gbk")
            + b"\r\n"
        )
    # An unknown charset, a NUL byte and invalid UTF-8.
    with open(os.path.join(HERE, "unknown_charset_nul.eml"), "wb") as f:
        f.write(
            crlf(
                "From: x@example.org\nTo: support@desk.example.com\nSubject: =?x-unknown-cs?B?SGVsbG8=?=\n"
                "Message-ID: <unknowncs-1@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=x-no-such-charset\n\n"
            )
            + b"caf\xe9 ok \x00 nul\xff\xfe end\r\n"
        )
    # mixed > related > alternative, an inline cid image, a PDF with an RFC 2231 name, an "image" that is an executable,
    # and HTML with script, event handlers, javascript: URLs, SVG, base and form.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    exe = b"MZ" + b"\x90" * 60 + b"This program cannot be run in DOS mode"
    html = (
        '<html><head><script>alert(1)</script><base href="http://evil"></head><body onload="steal()">'
        '<p>See the screenshot <img src="cid:shot1@example.com" onerror="x()"></p><a href="javascript:alert(2)">click</a>'
        '<svg><script>1</script></svg><form action="http://evil"><input></form></body></html>'
    )
    pdf_name = base64.b64encode("发票.pdf".encode()).decode()
    w(
        "multipart_cid_attachments.eml",
        """From: "O'Brien, Pat" <pat@example.com>
To: support@desk.example.com
Subject: =?utf-8?Q?Printer_=E2=80=93_screenshot_attached?=
Date: Thu, 05 Nov 2026 10:00:00 +0000
Message-ID: <multi-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="MIX"
""",
        crlf(f"""--MIX
Content-Type: multipart/related; boundary="REL"

--REL
Content-Type: multipart/alternative; boundary="ALT"

--ALT
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

See the screenshot =E2=80=93 printer shows error E-07.

--ALT
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

{base64.encodebytes(html.encode()).decode()}
--ALT--

--REL
Content-Type: image/png; name="shot.png"
Content-Transfer-Encoding: base64
Content-ID: <shot1@example.com>
Content-Disposition: inline; filename="shot.png"

{base64.encodebytes(png).decode()}
--REL--

--MIX
Content-Type: application/pdf; name="=?utf-8?B?{pdf_name}?="
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf

{base64.encodebytes(pdf).decode()}
--MIX
Content-Type: image/png; name="holiday.png"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="holiday.png"

{base64.encodebytes(exe).decode()}
--MIX--
"""),
    )
    # A forward: the original attached as message/rfc822.
    w(
        "forwarded.eml",
        """From: manager@example.com
To: support@desk.example.com
Subject: Fwd: Complaint about delivery
Date: Fri, 06 Nov 2026 09:00:00 +0000
Message-ID: <fwd-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="F"
""",
        crlf("""--F
Content-Type: text/plain; charset=utf-8

Please handle this one.

--F
Content-Type: message/rfc822

From: Angry Customer <angry@example.net>
To: manager@example.com
Subject: Complaint about delivery
Message-ID: <orig-complaint@example.net>

The parcel arrived broken.
--F--
"""),
    )
    # A reply: In-Reply-To, folded References and [#10042] in a Chinese "回复: Re:" subject.
    w(
        "reply_threaded.eml",
        """From: zhang.wei@example.cn
To: support@desk.example.com
Subject: =?utf-8?B?5Zue5aSNOiBSZTog5a695bim5pat57q/IFsjMTAwNDJd?=
Date: Sat, 07 Nov 2026 09:00:00 +0800
Message-ID: <reply-1@mail.example.cn>
In-Reply-To: <desk-out-1@desk.example.com>
References: <gb2312-1@mail.example.cn>
 <desk-out-1@desk.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
""",
        "还是断线。\r\n".encode(),
    )
    # Machines writing: auto-replies, bulk, lists.
    for name, extra in [
        ("auto_submitted.eml", "Auto-Submitted: auto-replied\nSubject: Automatic reply: your request"),
        ("precedence_bulk.eml", "Precedence: bulk\nSubject: Newsletter November"),
        ("list_id.eml", "List-Id: <announce.lists.example.org>\nSubject: [announce] release"),
        ("x_autoreply.eml", "X-Autoreply: yes\nSubject: I am on holiday"),
        ("exchange_oof.eml", "X-Auto-Response-Suppress: All\nSubject: =?utf-8?B?6Ieq5Yqo5Zue5aSNOiDlnKjkvJHlgYc=?="),
    ]:
        w(
            name,
            f"""From: someone@example.org
To: support@desk.example.com
{extra}
Message-ID: <{name}@example.org>
Content-Type: text/plain; charset=utf-8
""",
            b"Away until Monday.\r\n",
        )
    # A DSN bounce of one of our replies.
    w(
        "bounce_dsn.eml",
        """Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.cn>
To: support@desk.example.com
Subject: Undelivered Mail Returned to Sender
Date: Sun, 08 Nov 2026 09:00:00 +0000
Message-ID: <bounce-1@mx.example.cn>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"
""",
        crlf("""--DSN
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--DSN
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.cn

Final-Recipient: rfc822; nobody@example.cn
Action: failed
Status: 5.1.1

--DSN
Content-Type: text/rfc822-headers

From: support@desk.example.com
To: nobody@example.cn
Subject: Re: Broadband [#10042]
Message-ID: <desk-out-1@desk.example.com>

--DSN--
"""),
    )
    # Broken: an unterminated encoded word, a bad date, an empty group, a bare Message-ID, bad base64, no closing boundary.
    w(
        "broken_headers.eml",
        """From: =?utf-8?B?broken <=?= "Bad Name <weird@example.com>
To: undisclosed-recipients:;
Subject: =?utf-8?B?5a6i5oi35oqV6K+J?= =?gb2312?B?broken!!?= tail
Date: not a date at all
Message-ID: no-brackets-id@example.com
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"
""",
        crlf("""--B
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

5a6i5oi35oqV6K+J!!!not base64
--B
Content-Type: application/octet-stream; name="data.bin"
Content-Transfer-Encoding: base64

AAECAw==
"""),
    )


if __name__ == "__main__":
    main()
