"""An agent's reply as mail: the ticket's subject and number, the thread's last Message-IDs, the account's SMTP."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from channels.base import SendResult
from channels.email.compose import OutgoingMail
from channels.email.mailbox import EmailMailbox, domain_of
from service_hub.core.extensions import db
from service_hub.inbound.email_intake import remember
from service_hub.inbound.email_models import EmailMessageId
from service_hub.inbound.models import OutboundDelivery
from service_hub.tickets.models import Message, Ticket

MAX_REFERENCES = 20


def outgoing_for(delivery: OutboundDelivery, message: Message, settings: Mapping[str, str]) -> OutgoingMail:
    ticket = db.session.get(Ticket, message.ticket_id)
    assert ticket is not None
    ids = list(
        db.session.scalars(
            select(EmailMessageId.message_id)
            .where(EmailMessageId.account_id == delivery.account_id, EmailMessageId.ticket_id == ticket.id)
            .order_by(EmailMessageId.id.desc())
            .limit(MAX_REFERENCES)
        )
    )[::-1]
    last_inbound = db.session.scalars(
        select(EmailMessageId.message_id)
        .where(EmailMessageId.account_id == delivery.account_id, EmailMessageId.ticket_id == ticket.id, ~EmailMessageId.outbound)
        .order_by(EmailMessageId.id.desc())
        .limit(1)
    ).first()
    return OutgoingMail(
        from_address=settings.get("address", ""),
        from_name=settings.get("display_name") or None,
        to_address=delivery.recipient,
        subject=ticket.subject,
        text=message.body_text,
        html=message.body_html,
        domain=domain_of(settings),
        ticket_number=ticket.number,
        in_reply_to=last_inbound,
        references=tuple(i for i in ids if i != last_inbound),
    )


def send(mail: OutgoingMail, credentials: Mapping[str, str], settings: Mapping[str, str]) -> SendResult:
    return EmailMailbox().send_mail(mail, credentials, settings)


def remember_sent(delivery: OutboundDelivery, provider_message_id: str) -> None:
    message = db.session.get(Message, delivery.message_id) if delivery.message_id else None
    if message is not None:
        remember(delivery.account_id, provider_message_id, message.ticket_id, message.id, sent=True)
