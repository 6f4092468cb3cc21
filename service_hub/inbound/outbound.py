"""Replies out through the ticket's channel account, and delivery status back onto the message.

A reply becomes an outbound_deliveries row in the reply's own transaction (prepare_reply) and is
enqueued after commit. Sending claims the row ('sending', one attempt, a lease) and commits
before calling the provider, then records the provider's id. Delivery is at least once: a
worker killed after the provider took the message but before its id was stored leaves the row
'sending', and the sweeper sends it again when the lease runs out (providers such as Twilio take
no idempotency key). A row with a provider id is never sent again.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import select

from channels import registry
from channels.base import DeliveryUpdate, HttpTransport, OptedOut, OutboundMessage, SendError
from channels.http_transport import RequestsTransport
from config.settings import ChannelSettings
from service_hub.core.errors import Conflict
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.customers.models import ContactIdentity
from service_hub.inbound import (  # social_window: issue 3, the social family
    consent,
    credential_vault,
    email_outbound,  # issue 3: the email family
    social_window,
)
from service_hub.inbound.models import ChannelAccount, ChannelConversation, OutboundDelivery, OutboundStatus
from service_hub.inbound.retry_policy import lease_until, next_attempt
from service_hub.tickets.models import DeliveryStatus, Message, Ticket

log = logging.getLogger(__name__)

# Forward-only: a late "sent" never overwrites "delivered". Failed ends it, unless already delivered.
_RANK = {
    OutboundStatus.QUEUED: 0,
    OutboundStatus.SENDING: 0,
    OutboundStatus.SENT: 1,
    OutboundStatus.DELIVERED: 2,
    OutboundStatus.READ: 3,
    OutboundStatus.FAILED: 1,
}
_MESSAGE_STATUS = {
    OutboundStatus.QUEUED: DeliveryStatus.QUEUED,
    OutboundStatus.SENDING: DeliveryStatus.QUEUED,
    OutboundStatus.SENT: DeliveryStatus.SENT,
    OutboundStatus.DELIVERED: DeliveryStatus.DELIVERED,
    OutboundStatus.READ: DeliveryStatus.READ,
    OutboundStatus.FAILED: DeliveryStatus.FAILED,
}


def transport() -> HttpTransport:
    return RequestsTransport()


def _settings() -> ChannelSettings:
    settings: ChannelSettings = current_app.config["SERVICE_HUB"].channels
    return settings


def status_callback_url(account: ChannelAccount) -> str | None:
    """Where the provider reports delivery; None without a public URL (no callbacks then)."""
    base = (account.settings or {}).get("webhook_base_url") or _settings().public_base_url
    if not base:
        return None
    family, _, provider = account.kind.partition(".")
    return f"{base.rstrip('/')}/hooks/{family}/{provider}/{account.slug}/status"


# --- replies ------------------------------------------------------------------------------------


def prepare_reply(ticket: Ticket, message: Message) -> int | None:
    """The delivery row of an agent's reply, in the reply's transaction; None if the ticket has no channel conversation."""
    conversation = db.session.scalars(select(ChannelConversation).where(ChannelConversation.ticket_id == ticket.id)).first()
    if conversation is None:
        return None
    account = conversation.account
    family = registry.adapter_for(account.kind).family
    refusal = None
    if not account.is_active:
        refusal = Conflict(
            f"The channel account {account.name!r} is deactivated; the reply cannot be sent.",
            code="channel-inactive",
            title="Channel inactive",
        )
    elif conversation.identity_id is not None and consent.is_opted_out(conversation.identity_id, family):
        refusal = Conflict(
            f"The customer opted out of {family.upper()} messages (STOP); nothing is sent until they write START.",
            code="recipient-opted-out",
            title="Recipient opted out",
        )
    elif (window_refusal := social_window.outside_window(conversation)) is not None:  # issue 3, social: 24 h / 48 h windows
        refusal = window_refusal
    if refusal is not None:
        db.session.rollback()  # nothing of the refused reply stays in the session
        raise refusal
    delivery = OutboundDelivery(
        account_id=account.id,
        message_id=message.id,
        recipient=conversation.address,
        status=OutboundStatus.QUEUED,
        next_attempt_at=lease_until(utcnow(), _settings()),
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery.id


def enqueue_send(delivery_id: int | None) -> None:
    if delivery_id is None:
        return
    from service_hub.inbound.tasks import send_outbound_task

    try:
        send_outbound_task.delay(delivery_id)
    except Exception:
        log.exception("outbound delivery %s queued but not enqueued; the sweeper will pick it up", delivery_id)


def _locked(delivery_id: int) -> OutboundDelivery | None:
    query = select(OutboundDelivery).where(OutboundDelivery.id == delivery_id).with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(query).first()


def send_delivery(delivery_id: int) -> str:
    settings = _settings()
    delivery = _locked(delivery_id)
    if delivery is None or delivery.message_id is None:
        db.session.rollback()
        return "missing"
    if delivery.provider_message_id or delivery.status not in (OutboundStatus.QUEUED, OutboundStatus.SENDING):
        status = delivery.status.value
        db.session.rollback()
        return status
    if delivery.attempts >= settings.max_attempts:
        _fail(delivery, f"gave up after {delivery.attempts} attempts; last error: {delivery.last_error or 'none'}", None)
        db.session.commit()
        return OutboundStatus.FAILED.value
    now = utcnow()
    delivery.status = OutboundStatus.SENDING
    delivery.attempts += 1
    delivery.next_attempt_at = lease_until(now, settings)
    account = delivery.account
    message = db.session.get(Message, delivery.message_id)
    assert message is not None
    outgoing = OutboundMessage(
        to=delivery.recipient,
        text=message.body_text,
        idempotency_key=f"delivery-{delivery.id}",
        status_callback_url=status_callback_url(account),
    )
    kind, credentials_token, account_settings = account.kind, account.credentials_encrypted, dict(account.settings or {})
    # issue 3, email: the reply carries the ticket's number and the thread's Message-IDs
    mail = email_outbound.outgoing_for(delivery, message, account_settings) if registry.adapter_for(kind).family == "email" else None
    db.session.commit()  # the claim: no database lock is held while the provider is called

    error: Exception | None = None
    try:
        if mail is not None:  # issue 3, email
            result = email_outbound.send(mail, credential_vault.decrypt(credentials_token), account_settings)
        else:
            result = registry.adapter_for(kind).send(outgoing, credential_vault.decrypt(credentials_token), account_settings, transport())
    except (OptedOut, SendError, credential_vault.CredentialError) as exc:
        result, error = None, exc
    except Exception as exc:  # an adapter bug must not lose the reply: retried like a transient error
        log.exception("outbound delivery %s: the adapter failed", delivery_id)
        result, error = None, exc

    delivery = _locked(delivery_id)
    assert delivery is not None
    if result is not None:
        delivery.provider_message_id = result.provider_message_id
        if mail is not None:  # issue 3, email: the customer's answer threads through our Message-ID
            email_outbound.remember_sent(delivery, result.provider_message_id)
        delivery.provider_status = result.raw_status
        delivery.sent_at = utcnow()
        delivery.next_attempt_at = None
        delivery.last_error = None
        _move(
            delivery, OutboundStatus(result.state.value) if result.state.value in OutboundStatus._value2member_map_ else OutboundStatus.SENT
        )
        if delivery.status in (OutboundStatus.QUEUED, OutboundStatus.SENDING):
            delivery.status = OutboundStatus.SENT  # the provider has it; callbacks take it from here
            _mirror(delivery)
    elif isinstance(error, OptedOut):
        _fail(delivery, str(error), "opted-out")
        _record_provider_opt_out(delivery, account_kind=kind)
    elif isinstance(error, credential_vault.CredentialError) or (isinstance(error, SendError) and error.permanent):
        _fail(delivery, str(error), getattr(error, "code", None))
    else:
        delivery.status = OutboundStatus.QUEUED
        delivery.last_error = f"{type(error).__name__}: {error}"[:4000]
        if delivery.attempts >= settings.max_attempts:
            _fail(delivery, f"gave up after {delivery.attempts} attempts: {delivery.last_error}", getattr(error, "code", None))
        else:
            delivery.next_attempt_at = next_attempt(utcnow(), delivery.attempts, settings)
    status = delivery.status.value
    db.session.commit()
    return status


def _record_provider_opt_out(delivery: OutboundDelivery, account_kind: str) -> None:
    """The provider says the recipient unsubscribed (e.g. Twilio 21610): believe it."""
    conversation = db.session.scalars(
        select(ChannelConversation)
        .join(Message, Message.ticket_id == ChannelConversation.ticket_id)
        .where(Message.id == delivery.message_id)
    ).first()
    if conversation is not None and conversation.identity_id is not None:
        identity = db.session.get(ContactIdentity, conversation.identity_id)
        if identity is not None:
            consent.opt_out(identity, registry.adapter_for(account_kind).family, "provider")


def _fail(delivery: OutboundDelivery, error: str, code: str | None) -> None:
    delivery.status = OutboundStatus.FAILED
    delivery.last_error = error[:4000]
    delivery.error_code = (code or "")[:32] or None
    delivery.next_attempt_at = None
    _mirror(delivery)


def _move(delivery: OutboundDelivery, new: OutboundStatus) -> bool:
    current = delivery.status
    if current in (OutboundStatus.DELIVERED, OutboundStatus.READ) and new == OutboundStatus.FAILED:
        return False
    if current == OutboundStatus.FAILED or (new != OutboundStatus.FAILED and _RANK[new] <= _RANK[current]):
        return False
    delivery.status = new
    _mirror(delivery)
    return True


def _mirror(delivery: OutboundDelivery) -> None:
    """The message shows what its delivery knows; the ticket room hears of the change."""
    if delivery.message_id is None:
        return
    message = db.session.get(Message, delivery.message_id)
    if message is None:
        return
    message.delivery_status = _MESSAGE_STATUS[delivery.status]
    message.provider_message_id = delivery.provider_message_id
    message.delivery_error = (
        f"{delivery.error_code + ': ' if delivery.error_code else ''}{delivery.last_error or ''}"[:500]
        if delivery.status == OutboundStatus.FAILED
        else None
    )
    payload: dict[str, Any] = {
        "ticket_id": message.ticket_id,
        "message_id": message.id,
        "delivery_status": message.delivery_status.value,
        "error": message.delivery_error,
    }
    record_event("message.delivery_updated", payload, [f"ticket:{message.ticket_id}"])


# --- status callbacks -----------------------------------------------------------------------------


def apply_status(account: ChannelAccount, update: DeliveryUpdate) -> bool:
    """Apply a provider's status to its delivery; False if no delivery has that provider id yet."""
    delivery = db.session.scalars(
        select(OutboundDelivery)
        .where(OutboundDelivery.account_id == account.id, OutboundDelivery.provider_message_id == update.provider_message_id)
        .with_for_update()
    ).first()
    if delivery is None:
        return False
    new = OutboundStatus(update.state.value)
    if new == OutboundStatus.FAILED:
        delivery.error_code = update.error_code
        delivery.last_error = update.error_message or f"the provider reports {update.raw_status}"
    if _move(delivery, new):
        delivery.provider_status = update.raw_status
    return True


# --- an admin's test message ----------------------------------------------------------------------


def send_test(account: ChannelAccount, to: str, text: str) -> OutboundDelivery:
    """Send at once, in the request: the admin sees the provider's answer. Recorded for its callbacks."""
    outgoing = OutboundMessage(
        to=to, text=text, idempotency_key=f"test-{account.id}-{utcnow().timestamp()}", status_callback_url=status_callback_url(account)
    )
    delivery = OutboundDelivery(account_id=account.id, message_id=None, recipient=to, status=OutboundStatus.SENDING, attempts=1)
    try:
        result = registry.adapter_for(account.kind).send(
            outgoing, credential_vault.decrypt(account.credentials_encrypted), dict(account.settings or {}), transport()
        )
    except (OptedOut, SendError, credential_vault.CredentialError) as exc:
        delivery.status, delivery.last_error, delivery.error_code = OutboundStatus.FAILED, str(exc)[:4000], getattr(exc, "code", None)
    else:
        delivery.status, delivery.provider_message_id, delivery.provider_status = (
            OutboundStatus.SENT,
            result.provider_message_id,
            result.raw_status,
        )
        delivery.sent_at = utcnow()
    db.session.add(delivery)
    db.session.commit()
    return delivery
