"""From a normalised InboundMessage to the customer who sent it and the ticket it belongs to.

Identity: the sender is normalised (phones to E.164 in the configured default region) and
looked up; an unknown sender becomes a new customer holding that identity. Threading: a
conversation is an account plus the customer's address; a contact joins the newest active
ticket of its conversation, or opens a new ticket in the account's default department.
"""

from __future__ import annotations

import phonenumbers
from flask import current_app
from sqlalchemy import select

from channels.base import InboundMessage
from channels.consent import START, STOP
from service_hub.casework import routing_rules
from service_hub.core.errors import ValidationProblem
from service_hub.core.extensions import db
from service_hub.customers.identities import normalise_identity
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind
from service_hub.inbound import consent
from service_hub.inbound.models import ChannelAccount, ChannelConversation, InboundRecord
from service_hub.tickets import operations as ticket_operations
from service_hub.tickets.audit import audit
from service_hub.tickets.models import ACTIVE_STATUSES, Channel, Message, Ticket

SUBJECT_CHARS = 80
# Channel families as ticket channels.
_TICKET_CHANNEL = {
    "sms": Channel.SMS,
    "email": Channel.EMAIL,
    "phone": Channel.PHONE,
    "wechat": Channel.WECHAT,
    "whatsapp": Channel.WHATSAPP,
    "messenger": Channel.MESSENGER,  # issue 3: the social family
}


def identity_of(inbound: InboundMessage, account: ChannelAccount) -> tuple[IdentityKind, str, str]:
    """(kind, account scope, normalised value) of the sender. Numbers that are not phone numbers
    (short codes, alphanumeric senders) stay verbatim, scoped to the account."""
    kind = IdentityKind(inbound.sender_kind) if inbound.sender_kind in IdentityKind._value2member_map_ else IdentityKind.EXTERNAL
    if kind in (IdentityKind.PHONE, IdentityKind.EMAIL, IdentityKind.WHATSAPP):
        region = current_app.config["SERVICE_HUB"].channels.default_phone_region
        try:
            return kind, "", normalise_identity(kind, inbound.sender, region)
        except ValidationProblem:
            pass
    return IdentityKind.EXTERNAL if kind in (IdentityKind.PHONE, IdentityKind.EMAIL) else kind, account.slug, inbound.sender.strip()


def _display_name(kind: IdentityKind, value: str, inbound: InboundMessage) -> str:
    if inbound.sender_name:
        return inbound.sender_name
    if kind == IdentityKind.PHONE:
        return phonenumbers.format_number(phonenumbers.parse(value), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return value


def find_or_create_identity(inbound: InboundMessage, account: ChannelAccount) -> ContactIdentity:
    kind, scope, value = identity_of(inbound, account)
    query = select(ContactIdentity).where(ContactIdentity.kind == kind, ContactIdentity.account == scope, ContactIdentity.value == value)
    identity = db.session.scalars(query).first()
    if identity is not None:
        return identity
    # A concurrent first contact from the same sender loses on the unique identity and is retried.
    customer = Customer(name=_display_name(kind, value, inbound)[:200], attributes={})
    identity = ContactIdentity(kind=kind, account=scope, value=value, display_value=inbound.sender[:320], verified=False)
    customer.identities = [identity]
    db.session.add(customer)
    db.session.flush()
    audit(None, "customer.created", customer_id=customer.id, after={"name": customer.name, "identities": [value], "via": account.kind})
    return identity


def _subject(inbound: InboundMessage) -> str:
    if inbound.subject:
        return inbound.subject[:300]
    first_line = " ".join(inbound.text.split())
    return (
        first_line[:SUBJECT_CHARS] + ("…" if len(first_line) > SUBJECT_CHARS else "")
    ) or f"{inbound.channel.upper()} from {inbound.sender}"


def deliver(inbound: InboundMessage, account: ChannelAccount, record: InboundRecord) -> tuple[Ticket, Message]:
    """Put one inbound message where it belongs; the caller commits."""
    identity = find_or_create_identity(inbound, account)
    customer = identity.customer
    if customer.merged_into_id is not None:  # identities move on merge; this only guards old data
        customer = db.session.get(Customer, customer.merged_into_id) or customer
    if inbound.consent == STOP:
        consent.opt_out(identity, inbound.channel, inbound.text.strip(), record.id)
    elif inbound.consent == START:
        consent.opt_in(identity, inbound.channel)
    message_data = {"body_text": inbound.text, "body_html": inbound.html, "created_at": inbound.received_at}
    conversation = db.session.scalars(
        select(ChannelConversation)
        .join(Ticket, Ticket.id == ChannelConversation.ticket_id)
        .where(
            ChannelConversation.account_id == account.id, ChannelConversation.address == identity.value, Ticket.status.in_(ACTIVE_STATUSES)
        )
        .order_by(ChannelConversation.id.desc())
        .limit(1)
    ).first()
    if conversation is not None:
        ticket = db.session.get(Ticket, conversation.ticket_id)
        assert ticket is not None
        return ticket, ticket_operations.add_inbound_message(ticket, customer, message_data)
    data = {
        "subject": _subject(inbound),
        "channel": _TICKET_CHANNEL.get(inbound.channel, Channel.API),
        "message": message_data,
    }
    # Routing rules with conditions (an account, keywords, a tier...) may send it elsewhere.
    routed = routing_rules.route_inbound_ticket(account.slug, account.default_department_id, data, customer)
    if routed is not None:
        data = routed.ticket_data(data)
    ticket, message = ticket_operations.open_inbound_ticket(customer, data, data.get("department_id", account.default_department_id))
    if routed is not None:
        audit(None, "ticket.routed", ticket_id=ticket.id, after=routed.audit_after())
    db.session.add(ChannelConversation(account_id=account.id, address=identity.value, identity_id=identity.id, ticket_id=ticket.id))
    return ticket, message
