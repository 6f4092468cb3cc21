"""Call events into call records, tickets, call-back tasks and the agent's screen-pop.

Runs inside processing.process_record's transaction, once per stored record: a redelivered event
is a duplicate inbox row and never reaches here twice. Events of one call may come in any order,
so each one only fills in what it knows and the figures (wait, talk) are recomputed from the
stored timestamps.
  ringing         the caller becomes a customer (E.164 identity); with an agent: the screen-pop,
                  an outbox "call.ringing" to room agent:<id> carrying the customer card
  ivr / queued    the IVR path and the queue
  answered        the agent, the wait
  ended           the talk time; answered: the customer's open phone ticket gets a message
                  summarising the call (or a new ticket); unanswered: a call-back ticket
  recording, voicemail, transcript   attached to the record; a voicemail also asks for a call-back
Status callbacks of an agent's call-back (outbound, ?leg= in the URL) go to service_hub.inbound.callback.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from channels import registry
from channels.base import InboundMessage
from channels.voice.events import CallEvent, CallEventType, VoiceAdapter
from service_hub.auth.scope import compute_scope
from service_hub.core.errors import ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.customers.identities import normalise_identity
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind
from service_hub.inbound import callback, contacts
from service_hub.inbound.call_models import CallRecord, CallStatus
from service_hub.inbound.models import ChannelAccount, ChannelConversation, InboundRecord
from service_hub.org.models import Agent
from service_hub.tickets import operations as ticket_operations
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import ACTIVE_STATUSES, Channel, Message, Ticket, TicketTag

log = logging.getLogger(__name__)

CALLBACK_TAG = "callback"
LAST_CONTACTS = 5
OPEN_TICKETS = 10
EXCERPT_CHARS = 120


def handle_record(record: InboundRecord) -> None:
    if callback.is_call_back_status(record):  # a leg of an agent's call-back (service_hub.inbound.callback)
        callback.handle_status(record)
        return
    account = record.account
    adapter = registry.adapter_for(account.kind)
    if not isinstance(adapter, VoiceAdapter):
        raise TypeError(f"{account.kind} is not a voice adapter")
    events = adapter.parse_call_events(
        record.kind, record.body, url=record.url, settings=account.settings or {}, received_at=record.received_at
    )
    for event in events:
        call = _call(account, event)
        apply_event(call, account, event)
        if call.ticket_id and record.ticket_id is None:
            record.ticket_id = call.ticket_id


def _call(account: ChannelAccount, event: CallEvent) -> CallRecord:
    query = select(CallRecord).where(CallRecord.account_id == account.id, CallRecord.provider_call_id == event.call_id).with_for_update()
    call = db.session.scalars(query).first()
    if call is None:
        # Two first events of one call processed at once: one loses on the unique key and is retried.
        call = CallRecord(account_id=account.id, provider_call_id=event.call_id, direction=event.direction, ivr_path=[])
        db.session.add(call)
        db.session.flush()
    return call


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return max(round((end - start).total_seconds()), 0) if start and end else None


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return min(current, new) if current else new


def apply_event(call: CallRecord, account: ChannelAccount, event: CallEvent) -> None:
    call.from_number = call.from_number or event.caller
    call.to_number = call.to_number or event.callee
    if event.caller and call.customer_id is None:
        call.customer_id = _identity(account, event.caller, event.occurred_at).customer_id
    if event.type == CallEventType.RINGING:
        call.ringing_at = _earliest(call.ringing_at, event.occurred_at)
        if event.agent_id is not None:
            _screen_pop(call, event.agent_id)
    elif event.type == CallEventType.IVR:
        if event.ivr_choice:
            call.ivr_path = [*(call.ivr_path or []), event.ivr_choice]
        _advance(call, CallStatus.IN_IVR)
    elif event.type == CallEventType.QUEUED:
        call.queued_at = _earliest(call.queued_at, event.occurred_at)
        call.queue = event.queue or call.queue
        _advance(call, CallStatus.QUEUED)
    elif event.type == CallEventType.ANSWERED:
        call.answered_at = _earliest(call.answered_at, event.occurred_at)
        call.agent_id = _agent_id(event.agent_id) or call.agent_id
        _advance(call, CallStatus.ANSWERED)
    elif event.type == CallEventType.ENDED:
        call.ended_at = call.ended_at or event.occurred_at
        call.end_cause = event.cause or call.end_cause
        _advance(call, CallStatus.COMPLETED if call.answered_at else CallStatus.MISSED)
    elif event.type == CallEventType.RECORDING:
        call.recording_url = event.recording_url or call.recording_url
    elif event.type == CallEventType.VOICEMAIL:
        call.voicemail_url = event.voicemail_url or event.recording_url or call.voicemail_url
        call.transcript = event.transcript or call.transcript
        _advance(call, CallStatus.VOICEMAIL)
    elif event.type == CallEventType.TRANSCRIPT:
        call.transcript = event.transcript or call.transcript
    call.wait_seconds = _seconds(call.queued_at or call.ringing_at, call.answered_at)
    call.talk_seconds = _seconds(call.answered_at, call.ended_at)
    call.updated_at = utcnow()
    db.session.flush()
    _ticket_for(call, account, event)


_ORDER = list(CallStatus)


def _advance(call: CallRecord, status: CallStatus) -> None:
    """Statuses only move forward, so a late 'queued' does not undo an 'answered'."""
    if call.status is None or _ORDER.index(status) > _ORDER.index(call.status):
        call.status = status


def _agent_id(agent_id: int | None) -> int | None:
    if agent_id is None:
        return None
    agent = db.session.get(Agent, agent_id)
    return agent.id if agent is not None and agent.is_active else None


# --- identity -----------------------------------------------------------------------------------


def _identity(account: ChannelAccount, number: str, at: datetime) -> ContactIdentity:
    caller = InboundMessage(
        channel="phone",
        account=account.slug,
        provider_message_id="",
        sender=number,
        sender_kind="phone",
        conversation_key=f"{account.slug}:{number}",
        text="",
        received_at=at,
        raw_ref="",
    )
    return contacts.find_or_create_identity(caller, account)


def caller_tier(number: str, region: str) -> str | None:
    """The tier of the customer calling from this number, if known (the IVR's queue priority)."""
    try:
        value = normalise_identity(IdentityKind.PHONE, number, region)
    except ValidationProblem:
        return None
    query = (
        select(Customer.tier)
        .join(ContactIdentity, ContactIdentity.customer_id == Customer.id)
        .where(ContactIdentity.kind == IdentityKind.PHONE, ContactIdentity.account == "", ContactIdentity.value == value)
    )
    tier = db.session.scalars(query).first()
    return tier.value if tier is not None else None


# --- screen-pop ---------------------------------------------------------------------------------


def customer_card(customer: Customer, agent: Agent) -> dict[str, object]:
    """What an agent sees as the phone rings: who, how valuable, what is open, what was said lately.

    Only tickets the agent may open, by the API's access rules: the card must not show the subject
    or the words of a case from a department the agent cannot see."""
    visible = visible_tickets_clause(compute_scope(agent))
    open_tickets = db.session.scalars(
        select(Ticket)
        .where(Ticket.customer_id == customer.id, Ticket.status.in_(ACTIVE_STATUSES), visible)
        .order_by(Ticket.id.desc())
        .limit(OPEN_TICKETS)
    ).all()
    recent = db.session.execute(
        select(Message.created_at, Message.channel, Message.direction, Message.body_text, Ticket.id, Ticket.number)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Ticket.customer_id == customer.id, Message.direction != "note", visible)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(LAST_CONTACTS)
    ).all()
    return {
        "id": customer.id,
        "name": customer.name,
        "tier": customer.tier.value,
        "identities": [{"kind": i.kind.value, "value": i.value} for i in customer.identities],
        "open_tickets": [{"id": t.id, "number": t.number, "subject": t.subject, "status": t.status.value} for t in open_tickets],
        "last_contacts": [
            {
                "at": at.isoformat(),
                "channel": channel.value,
                "direction": direction.value,
                "ticket_id": ticket_id,
                "ticket_number": number,
                "excerpt": (text or "")[:EXCERPT_CHARS],
            }
            for at, channel, direction, text, ticket_id, number in recent
        ],
    }


def _screen_pop(call: CallRecord, agent_id: int) -> None:
    agent = db.session.get(Agent, agent_id) if _agent_id(agent_id) is not None else None
    if agent is None:
        log.warning("call %s rings for unknown or inactive agent %s; no screen-pop", call.provider_call_id, agent_id)
        return
    customer = db.session.get(Customer, call.customer_id) if call.customer_id else None
    payload = {
        "call_id": call.provider_call_id,
        "from": call.from_number,
        "ivr_path": list(call.ivr_path or []),
        "queue": call.queue,
        "customer": customer_card(customer, agent) if customer else None,
    }
    record_event("call.ringing", payload, [f"agent:{agent_id}"])


# --- tickets ------------------------------------------------------------------------------------


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def summary(call: CallRecord) -> str:
    agent = db.session.get(Agent, call.agent_id) if call.agent_id else None
    lines = [f"Call from {call.from_number or 'an unknown number'} ({call.provider_call_id})"]
    if call.ivr_path:
        lines.append("IVR: " + " > ".join(call.ivr_path))
    if call.status == CallStatus.COMPLETED:
        who = agent.name if agent else "an agent"
        lines.append(f"Answered by {who} after {_duration(call.wait_seconds)} waiting; talked {_duration(call.talk_seconds)}.")
    else:
        lines.append(f"Not answered ({call.end_cause or 'no answer'}); please call back.")
    if call.voicemail_url:
        lines.append(f"Voicemail: {call.voicemail_url}")
    if call.transcript:
        lines.append(f"Transcript: {call.transcript}")
    return "\n".join(lines)


def _ticket_for(call: CallRecord, account: ChannelAccount, event: CallEvent) -> None:
    if call.ticket_id is not None:
        if event.type in (CallEventType.VOICEMAIL, CallEventType.TRANSCRIPT):
            ticket = db.session.get(Ticket, call.ticket_id)
            if ticket is not None:
                _add(ticket, call, _media_text(event))
                _tag(ticket, CALLBACK_TAG)
        return
    needs_callback = event.type == CallEventType.VOICEMAIL or (event.type == CallEventType.ENDED and call.status == CallStatus.MISSED)
    if event.type != CallEventType.ENDED and not needs_callback:
        return
    if call.customer_id is None:
        return  # an ended call of which no event named the caller: nothing to ticket
    _open_or_thread(call, account, callback=needs_callback, at=event.occurred_at)


def _media_text(event: CallEvent) -> str:
    if event.type == CallEventType.VOICEMAIL:
        return f"Voicemail: {event.voicemail_url or event.recording_url or '-'}" + (f"\n{event.transcript}" if event.transcript else "")
    return f"Transcript: {event.transcript or ''}"


def _add(ticket: Ticket, call: CallRecord, text: str) -> None:
    customer = db.session.get(Customer, call.customer_id) if call.customer_id else ticket.customer
    assert customer is not None
    ticket_operations.add_inbound_message(ticket, customer, {"body_text": text, "created_at": utcnow()})


def _tag(ticket: Ticket, tag: str) -> None:
    if tag not in ticket.tags:
        ticket.tag_rows.append(TicketTag(tag=tag))


def _open_or_thread(call: CallRecord, account: ChannelAccount, *, callback: bool, at: datetime) -> None:
    customer = db.session.get(Customer, call.customer_id)
    identity = _identity(account, call.from_number or "", at) if call.from_number else None
    assert customer is not None
    address = identity.value if identity else f"call:{call.provider_call_id}"
    conversation_ticket = db.session.scalars(
        select(Ticket)
        .join(ChannelConversation, ChannelConversation.ticket_id == Ticket.id)
        .where(ChannelConversation.account_id == account.id, ChannelConversation.address == address, Ticket.status.in_(ACTIVE_STATUSES))
        .order_by(ChannelConversation.id.desc())
        .limit(1)
    ).first()
    # A missed call joins an open call-back ticket, never an ordinary one: the call-back must be seen.
    if conversation_ticket is not None and (not callback or CALLBACK_TAG in conversation_ticket.tags):
        call.ticket_id = conversation_ticket.id
        _add(conversation_ticket, call, summary(call))
        return
    subject = f"Call-back: missed call from {call.from_number}" if callback else f"Call from {call.from_number}"
    data = {
        "subject": subject,
        "channel": Channel.PHONE,
        "tags": [CALLBACK_TAG] if callback else [],
        "message": {"body_text": summary(call), "created_at": at},
    }
    ticket, _message = ticket_operations.open_inbound_ticket(customer, data, account.default_department_id)
    call.ticket_id = ticket.id
    db.session.add(
        ChannelConversation(account_id=account.id, address=address, identity_id=identity.id if identity else None, ticket_id=ticket.id)
    )
