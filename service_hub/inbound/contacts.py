"""From a normalised InboundMessage to the customer who sent it and the ticket it belongs to.

Identity: the sender is normalised (phones to E.164 in the configured default region) and
looked up; an unknown sender becomes a new customer holding that identity, unless the same
number is known on the other phone channel (WhatsApp or phone): then the new identity joins that
customer. When the number proves two customers one person, the system merges them only on verified
identities; otherwise supervisors get a link suggestion (issue 3, item 7). Threading: a
conversation is an account plus the customer's address; a contact joins the newest active
ticket of its conversation, or opens a new ticket in the account's default department.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from flask import current_app
from sqlalchemy import select, text

from channels.base import InboundMessage
from channels.consent import START, STOP
from service_hub.casework import routing_rules
from service_hub.core.errors import ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.customers import operations as customer_operations
from service_hub.customers.identities import normalise_identity
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind
from service_hub.inbound import consent
from service_hub.inbound.models import ChannelAccount, ChannelConversation, InboundRecord
from service_hub.tickets import operations as ticket_operations
from service_hub.tickets.audit import audit
from service_hub.tickets.models import ACTIVE_STATUSES, AuditEvent, Channel, Message, Ticket

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


# The phone number behind a WhatsApp id and a caller ID or SMS sender: one person, two identities.
_SAME_NUMBER = {IdentityKind.WHATSAPP: IdentityKind.PHONE, IdentityKind.PHONE: IdentityKind.WHATSAPP}


def _identity(kind: IdentityKind, scope: str, value: str) -> ContactIdentity | None:
    query = select(ContactIdentity).where(ContactIdentity.kind == kind, ContactIdentity.account == scope, ContactIdentity.value == value)
    return db.session.scalars(query).first()


def _serialise_first_contacts(value: str) -> None:
    """On PostgreSQL, first contacts from one number over SMS and WhatsApp at once take turns, so the
    second links to the first's customer instead of making a twin (a transaction-scoped advisory
    lock; SQLite serialises writers anyway). Same-kind races lose on the unique identity instead."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"identity:{value}"})


def find_or_create_identity(inbound: InboundMessage, account: ChannelAccount) -> ContactIdentity:
    """The sender's identity; new if unknown, on a new customer or linked to the customer who holds
    the same number on the other phone channel; two customers proven one by it are merged or, on
    unverified evidence, suggested for a merge (see _reconcile)."""
    kind, scope, value = identity_of(inbound, account)
    identity = _identity(kind, scope, value)
    other_kind = _SAME_NUMBER.get(kind) if scope == "" else None
    if other_kind is None:
        return identity if identity is not None else _new_customer(kind, scope, value, inbound, account)
    if identity is None:
        _serialise_first_contacts(value)
        identity = _identity(kind, scope, value)
    other = _identity(other_kind, "", value)
    if identity is None:
        if other is not None:
            return _link(kind, value, inbound, account, other)
        return _new_customer(kind, scope, value, inbound, account)
    if other is not None and other.customer_id != identity.customer_id:
        _reconcile(identity, other)
    return identity


def _new_customer(kind: IdentityKind, scope: str, value: str, inbound: InboundMessage, account: ChannelAccount) -> ContactIdentity:
    # A concurrent first contact from the same sender loses on the unique identity and is retried.
    customer = Customer(name=_display_name(kind, value, inbound)[:200], attributes={})
    identity = ContactIdentity(kind=kind, account=scope, value=value, display_value=inbound.sender[:320], verified=_proven(kind))
    customer.identities = [identity]
    db.session.add(customer)
    db.session.flush()
    audit(None, "customer.created", customer_id=customer.id, after={"name": customer.name, "identities": [value], "via": account.kind})
    return identity


def _proven(kind: IdentityKind) -> bool:
    """A WhatsApp id is a phone number Meta verified the sender controls; caller IDs and SMS senders
    can be spoofed, so a phone identity made from a contact is not verified."""
    return kind == IdentityKind.WHATSAPP


def _link(kind: IdentityKind, value: str, inbound: InboundMessage, account: ChannelAccount, other: ContactIdentity) -> ContactIdentity:
    """A new identity on the customer holding the same number on the other phone channel, audited with why."""
    live = customer_operations.lock_live_customers({other.customer_id}).get(other.customer_id)
    if live is None:  # the holder vanished under us: retried, and then it is a first contact
        raise LookupError(f"customer {other.customer_id} of identity {other.id} is gone")
    identity = ContactIdentity(
        customer_id=live.id, kind=kind, account="", value=value, display_value=inbound.sender[:320], verified=_proven(kind)
    )
    db.session.add(identity)
    db.session.flush()
    if kind == IdentityKind.WHATSAPP:
        why = f"whatsapp sender {value} (verified by Meta) has the number of phone identity {other.id} of customer {live.id}"
    else:
        why = f"{account.kind} sender {value} has the number of whatsapp identity {other.id} of customer {live.id}"
    after = {
        "identity_id": identity.id,
        "kind": kind.value,
        "value": value,
        "verified": identity.verified,
        "linked_by": {"identity_id": other.id, "kind": other.kind.value, "verified": other.verified},
        "via": account.kind,
        "why": why,
    }
    audit(None, "identity.linked", customer_id=live.id, after=after)
    return identity


def _reconcile(identity: ContactIdentity, other: ContactIdentity) -> None:
    """The same number as WhatsApp and as phone identity on two customers: one person.

    Merged by the system when both are verified (Meta verified the WhatsApp number; someone verified
    the phone); otherwise a person decides: a suggestion audited on both and sent to supervisors.
    """
    whatsapp, phone = (identity, other) if identity.kind == IdentityKind.WHATSAPP else (other, identity)
    live = customer_operations.lock_live_customers({whatsapp.customer_id, phone.customer_id})
    if len(live) < 2 or live[whatsapp.customer_id].id == live[phone.customer_id].id:
        return  # already one customer (a concurrent contact merged them) or one is gone
    first, second = sorted((live[whatsapp.customer_id].id, live[phone.customer_id].id))
    evidence = {
        "value": identity.value,
        "whatsapp": {"identity_id": whatsapp.id, "customer_id": live[whatsapp.customer_id].id, "verified": whatsapp.verified},
        "phone": {"identity_id": phone.id, "customer_id": live[phone.customer_id].id, "verified": phone.verified},
    }
    if whatsapp.verified and phone.verified:
        reason = f"verified whatsapp identity {identity.value} links customers {first} and {second}"
        customer_operations.merge_verified(first, second, reason)
        db.session.expire(identity, ["customer_id", "customer"])
        db.session.expire(other, ["customer_id", "customer"])
        return
    _suggest_link(first, second, evidence)


def _suggest_link(first: int, second: int, evidence: dict[str, Any]) -> None:
    """Tell supervisors two customers look like one person (once per pair and number); they merge by hand."""
    earlier = db.session.scalars(
        select(AuditEvent.after).where(AuditEvent.customer_id == first, AuditEvent.action == "customer.link_suggested")
    ).all()
    if any(e and e.get("customer_ids") == [first, second] and e.get("value") == evidence["value"] for e in earlier):
        return
    unverified = [kind for kind in ("whatsapp", "phone") if not evidence[kind]["verified"]]
    reason = (
        f"{' and '.join(unverified)} identity of {evidence['value']} is not verified: customers {first} and {second} "
        "may be one person; merge them by hand if so"
    )
    after = {"customer_ids": [first, second], **evidence, "reason": reason}
    audit(None, "customer.link_suggested", customer_id=first, after=after)
    audit(None, "customer.link_suggested", customer_id=second, after=after)
    record_event("customer.link_suggested", after, ["supervisors", f"customer:{first}", f"customer:{second}"])


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
