"""Our outgoing mail: one MIME message with a fresh Message-ID, the thread's In-Reply-To/References
and "[#<number>]" in the subject, so the customer's answer finds its ticket whichever header survives.

Values that become headers (subject, names, addresses) are refused if they carry CR or LF:
header injection is an error, not something to clean silently.
"""

# ruff: noqa: RUF001 - Chinese text uses fullwidth punctuation on purpose
from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

from channels.base import PayloadError
from channels.email.parse import _TICKET_TAG


class HeaderInjection(PayloadError):
    """A subject, name or address with CR/LF or other control characters: refused, nothing sent."""


_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|回复|答复|回覆|转发)\s*(\[\d+\])?\s*[:：]\s*)+", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]{2,}$|^[^@\s<>(),;:\"\[\]\\]+@localhost$")
MAX_REFERENCES = 20


@dataclass(frozen=True)
class OutgoingMail:
    from_address: str
    to_address: str
    subject: str
    text: str
    domain: str  # for the Message-ID
    from_name: str | None = None
    html: str | None = None
    ticket_number: int | None = None
    in_reply_to: str | None = None  # without brackets
    references: tuple[str, ...] = ()
    auto_generated: bool = False  # our automatic mail: Auto-Submitted: auto-replied (RFC 3834)


def checked_header(value: str, what: str) -> str:
    if _CONTROL.search(value.replace("\t", " ")):
        raise HeaderInjection(f"The {what} contains a line break or control character.")
    return value


def checked_address(value: str, what: str = "address") -> str:
    checked_header(value, what)
    address = value.strip()
    if not _ADDRESS.match(address):
        raise HeaderInjection(f"The {what} {address!r} is not one plain mail address.")
    return address


def thread_subject(subject: str, number: int | None) -> str:
    """ "Re: <subject> [#number]", with any earlier Re:/Fwd: prefixes and ticket tags taken off first."""
    checked_header(subject, "subject")
    bare = _TICKET_TAG.sub("", _REPLY_PREFIX.sub("", subject)).strip() or "(no subject)"
    tagged = f"{bare} [#{number}]" if number is not None else bare
    return f"Re: {tagged}"


def compose(mail: OutgoingMail) -> EmailMessage:
    from_address = checked_address(mail.from_address, "sender address")
    to_address = checked_address(mail.to_address, "recipient address")
    subject = (
        thread_subject(mail.subject, mail.ticket_number) if mail.ticket_number is not None else checked_header(mail.subject, "subject")
    )
    message = EmailMessage(policy=policy.SMTP)
    local, _, domain = from_address.rpartition("@")
    name = checked_header(mail.from_name, "sender name") if mail.from_name else ""
    message["From"] = Address(display_name=name, username=local, domain=domain)
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=checked_header(mail.domain, "domain"))
    if mail.in_reply_to:
        message["In-Reply-To"] = f"<{checked_header(mail.in_reply_to, 'In-Reply-To')}>"
    refs = [checked_header(r, "References") for r in mail.references][-MAX_REFERENCES:]
    if mail.in_reply_to and mail.in_reply_to not in refs:
        refs.append(mail.in_reply_to)
    if refs:
        message["References"] = " ".join(f"<{r}>" for r in refs)
    if mail.auto_generated:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message
