"""Mail into tickets: threading by Message-ID, then [#number], else a new ticket; bounces and auto-replies kept quiet.

Threading: In-Reply-To and References are looked up among the Message-IDs this account received
or sent (email_message_ids); then a "[#number]" in the subject, accepted only for a ticket of the
same customer (a guessed number must not put mail into someone else's case); else a new ticket.
Machines: a bounce is attached to the ticket of the mail it bounces and fails that delivery; an
auto-reply, bulk or list mail joins its thread without reopening it; an unthreaded bounce or
auto-reply is stored with its record and opens nothing.
Floods: past the FloodCap (MAIL_FLOOD_THRESHOLD mails from one sender in MAIL_FLOOD_WINDOW_SECONDS)
a person's mail is threaded quietly too, onto its thread or the sender's latest mail ticket:
stored and shown, but no new ticket, no reopen, no SLA clock (we send no auto-replies, so
the cap is on what we take in, not on what we answer).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from channels.base import DeliveryState, DeliveryUpdate, InboundMessage
from channels.email.loops import Automation, FloodCap
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.customers.models import Customer
from service_hub.inbound import contacts, outbound
from service_hub.inbound.email_models import EmailMessageId
from service_hub.inbound.models import ChannelAccount, ChannelConversation, InboundRecord
from service_hub.tickets import operations as ticket_operations
from service_hub.tickets.models import ACTIVE_STATUSES, Channel, Direction, Message, Ticket

log = logging.getLogger(__name__)


def remember(account_id: int, message_id: str, ticket_id: int, ticket_message_id: int | None, *, sent: bool) -> None:
    values = {
        "account_id": account_id,
        "message_id": message_id[:255],
        "ticket_id": ticket_id,
        "ticket_message_id": ticket_message_id,
        "outbound": sent,
    }
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(EmailMessageId).values(**values).on_conflict_do_nothing(index_elements=["account_id", "message_id"]))


def thread_of(account_id: int, message_ids: list[str]) -> Ticket | None:
    if not message_ids:
        return None
    rows = db.session.execute(
        select(EmailMessageId.message_id, EmailMessageId.ticket_id).where(
            EmailMessageId.account_id == account_id, EmailMessageId.message_id.in_(message_ids)
        )
    ).all()
    by_id = dict(rows)
    for mid in message_ids:  # the nearest ancestor wins
        if mid in by_id:
            return db.session.get(Ticket, by_id[mid])
    return None


def _quiet_message(ticket: Ticket, customer: Customer | None, inbound: InboundMessage) -> Message:
    """Machine mail on a ticket: shown in the thread, no reopen, no SLA clock."""
    message = Message(
        ticket=ticket,
        direction=Direction.INBOUND,
        channel=ticket.channel,
        author_customer_id=customer.id if customer else None,
        body_text=inbound.text,
        body_html=inbound.html,
        created_at=inbound.received_at,
    )
    db.session.add(message)
    db.session.flush()
    record_event(
        "message.created",
        {"ticket_id": ticket.id, "message_id": message.id, "direction": Direction.INBOUND.value, "author_id": None},
        [f"ticket:{ticket.id}", f"department:{ticket.department_id}"],
    )
    return message


def _flood_cap() -> FloodCap:
    settings = current_app.config["SERVICE_HUB"].channels
    return FloodCap(settings.mail_flood_threshold, timedelta(seconds=settings.mail_flood_window_seconds))


def _flooding(customer: Customer, inbound: InboundMessage) -> bool:
    """Whether this sender already wrote the cap's worth of mail within the window before this one."""
    cap = _flood_cap()
    earlier = db.session.scalar(
        select(func.count(Message.id))
        .join(Ticket, Message.ticket_id == Ticket.id)
        .where(
            Ticket.customer_id == customer.id,
            Message.channel == Channel.EMAIL,
            Message.direction == Direction.INBOUND,
            Message.created_at >= cap.since(inbound.received_at),
        )
    )
    if earlier == cap.threshold:
        log.warning(
            "mail flood from customer %s: more than %s mails in %s; threading quietly from now on", customer.id, earlier, cap.window
        )
    return cap.exceeded(earlier or 0)


def _latest_email_ticket(customer: Customer) -> Ticket | None:
    query = select(Ticket).where(Ticket.customer_id == customer.id, Ticket.channel == Channel.EMAIL)
    return db.session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1)).first()


def deliver(inbound: InboundMessage, account: ChannelAccount, record: InboundRecord) -> tuple[Ticket, Message] | None:
    """Put one mail where it belongs (the caller commits); None when it is stored only."""
    automation = Automation(inbound.extra.get("automation", Automation.HUMAN.value))
    message_id = inbound.extra.get("message_id") or inbound.provider_message_id
    thread_ids = [t.strip("<>") for t in inbound.extra.get("thread_ids", "").split()]

    if automation is Automation.BOUNCE:
        bounced = inbound.extra.get("bounced_message_id")
        ticket = thread_of(account.id, [bounced] if bounced else thread_ids)
        if ticket is None:
            return None
        if bounced:
            outbound.apply_status(
                account, DeliveryUpdate(bounced, DeliveryState.FAILED, "bounced", error_message=inbound.text[:300] or "bounced")
            )
        message = _quiet_message(ticket, None, inbound)
        remember(account.id, message_id, ticket.id, message.id, sent=False)
        return ticket, message

    identity = contacts.find_or_create_identity(inbound, account)
    customer = identity.customer
    ticket = thread_of(account.id, thread_ids)
    if ticket is None and inbound.extra.get("ticket_number"):
        candidate = db.session.scalars(select(Ticket).where(Ticket.number == int(inbound.extra["ticket_number"]))).first()
        if candidate is not None and candidate.customer_id == customer.id:
            ticket = candidate
    flooding = automation is Automation.HUMAN and _flooding(customer, inbound)
    if flooding:
        ticket = ticket or _latest_email_ticket(customer)
    if ticket is not None and (automation is not Automation.HUMAN or flooding):
        message = _quiet_message(ticket, customer, inbound)
    elif ticket is not None and ticket.status in ACTIVE_STATUSES:
        message = ticket_operations.add_inbound_message(
            ticket, customer, {"body_text": inbound.text, "body_html": inbound.html, "created_at": inbound.received_at}
        )
    elif automation is Automation.AUTO_REPLY:
        return None  # an out-of-office to nothing we know: kept in the record, no ticket
    else:
        data = {
            "subject": inbound.subject or "(no subject)",
            "channel": Channel.EMAIL,
            "message": {"body_text": inbound.text, "body_html": inbound.html, "created_at": inbound.received_at},
        }
        ticket, message = ticket_operations.open_inbound_ticket(customer, data, account.default_department_id)
        db.session.add(ChannelConversation(account_id=account.id, address=identity.value, identity_id=identity.id, ticket_id=ticket.id))
    remember(account.id, message_id, ticket.id, message.id, sent=False)
    return ticket, message
