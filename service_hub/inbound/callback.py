"""Call-backs: an agent calls the customer back through the hotline, and the call's progress comes back.

POST /api/v1/tickets/<id>/calls (callback_api.py) -> request_call_back:
  1. checks, in the request's transaction: the ticket has a phone conversation or its customer a
     phone identity (the number to call); a hotline account that can place calls (Twilio Voice:
     the ticket's own, the one named, or the first active one), active (409 channel-inactive);
     the customer has not opted out of the phone family (409 recipient-opted-out); no call-back
     of this ticket is still under way (409 call-in-progress).
  2. an outbound CallRecord 'dialing' with a placeholder id, an audit event and a "call.updated"
     outbox event, committed.
  3. after the commit, in the request: Twilio's Calls.json is asked to ring the agent's phone and
     then dial the customer (channels/voice/twilio_voice.py, click-to-call). Its CallSid replaces
     the placeholder; a refusal makes the record 'failed' with the provider's message. A call is
     placed at most once: a phone that rings minutes late helps nobody, so nothing retries it
     (the agent presses "Call back" again); a worker killed between Twilio's answer and the
     commit leaves the record 'dialing' and its callbacks dead-letter as unknown.

Status callbacks come to the generic /hooks/phone/twilio/<slug>/status?leg=agent|customer, are
stored raw and committed before they are acknowledged (webhooks.py), and processed here through
voice.handle_record, once per stored record. The record's status is recomputed from what the
legs reported, so callbacks may arrive in any order:
  dialing -> ringing (either leg rings) -> answered (the customer picked up) -> completed
  (answered, then ended: talk time is the customer leg's CallDuration); ended unanswered (busy,
  no-answer, the agent never picked up) -> missed; Twilio's 'failed' -> failed.
A completed call-back closes the ticket's call-back task: the "callback" tag becomes
"callback-done" (audited, "ticket.updated"); a missed one leaves it open.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from channels import registry
from channels.base import SendError
from channels.sms.twilio_sms import parse_form
from channels.voice import twilio_voice
from channels.voice.twilio_voice import CallProgress
from service_hub.auth.principal import Principal
from service_hub.core.errors import Conflict, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.customers.models import ContactIdentity, IdentityKind
from service_hub.inbound import consent, credential_vault, outbound
from service_hub.inbound.call_models import PENDING_PREFIX, CallRecord, CallStatus
from service_hub.inbound.models import ChannelAccount, ChannelConversation, InboundRecord
from service_hub.tickets.audit import audit
from service_hub.tickets.models import Ticket, TicketTag

log = logging.getLogger(__name__)

CALLBACK_TAG = "callback"  # the same tag voice.py puts on a missed call's ticket
CALLBACK_DONE_TAG = "callback-done"
FAMILY = "phone"
IN_FLIGHT = (CallStatus.DIALING, CallStatus.RINGING, CallStatus.ANSWERED)
IN_FLIGHT_FOR = timedelta(hours=2)  # an older unfinished call-back (lost callbacks) no longer blocks a new one


def can_place_calls(account: ChannelAccount) -> bool:
    return hasattr(registry.adapter_for(account.kind), "place_call")


def is_call_back_status(record: InboundRecord) -> bool:
    """A stored status callback of a call-back's leg (our StatusCallback URLs carry ?leg=)."""
    return bool(parse_qs(urlsplit(record.url).query).get("leg"))


# --- the request --------------------------------------------------------------------------------


def request_call_back(actor: Principal, ticket: Ticket, data: dict[str, Any]) -> CallRecord:
    agent_number = _agent_number(data["agent_number"])
    number, identity_id, conversation = _customer_number(ticket)
    account = _account(ticket, conversation, data.get("account_id"))
    hotline = (account.settings or {}).get("from_number", "")
    refusal: Conflict | None = None
    if not account.is_active:
        refusal = Conflict(
            f"The hotline account {account.name!r} is deactivated; the call cannot be placed.",
            code="channel-inactive",
            title="Channel inactive",
        )
    elif not twilio_voice.is_dialable(hotline):
        refusal = Conflict(
            f"The hotline account {account.name!r} has no from_number (E.164) to call from.",
            code="hotline-number-missing",
            title="Hotline number missing",
        )
    elif identity_id is not None and consent.is_opted_out(identity_id, FAMILY):
        refusal = Conflict(
            "The customer asked not to be called on this number; no call is placed.",
            code="recipient-opted-out",
            title="Recipient opted out",
        )
    elif _in_flight(ticket) is not None:
        refusal = Conflict("A call-back of this ticket is already under way.", code="call-in-progress", title="Call in progress")
    if refusal is not None:
        db.session.rollback()
        raise refusal
    now = utcnow()
    call = CallRecord(
        account_id=account.id,
        provider_call_id=PENDING_PREFIX + uuid.uuid4().hex,
        customer_id=ticket.customer_id,
        ticket_id=ticket.id,
        direction="outbound",
        from_number=hotline,
        to_number=number,
        agent_id=actor.agent.id,
        ivr_path=[],
        status=CallStatus.DIALING,
        created_at=now,
    )
    db.session.add(call)
    db.session.flush()
    audit(actor, "call.requested", ticket_id=ticket.id, after={"call_record_id": call.id, "to": number, "account_id": account.id})
    _announce(call)
    db.session.commit()
    return _place(call.id, agent_number)


def _agent_number(raw: Any) -> str:
    value = str(raw or "").strip()
    if not value.startswith("client:"):
        value = value.replace(" ", "").replace("-", "")
    if not twilio_voice.is_dialable(value):
        raise ValidationProblem(
            "agent_number must be a phone number in E.164 (+8613800138000) or client:<identity>.",
            errors={"agent_number": ["Not an E.164 number or client:<identity>."]},
        )
    return value


def _customer_number(ticket: Ticket) -> tuple[str, int | None, ChannelConversation | None]:
    """The number to call: the ticket's phone conversation, else the customer's phone identity."""
    conversations = db.session.scalars(
        select(ChannelConversation).where(ChannelConversation.ticket_id == ticket.id).order_by(ChannelConversation.id.desc())
    ).all()
    for conversation in conversations:
        if registry.adapter_for(conversation.account.kind).family == FAMILY and twilio_voice.is_dialable(conversation.address):
            return conversation.address, conversation.identity_id, conversation
    identity = db.session.scalars(
        select(ContactIdentity)
        .where(ContactIdentity.customer_id == ticket.customer_id, ContactIdentity.kind == IdentityKind.PHONE)
        .order_by(ContactIdentity.id)
    ).first()
    if identity is None or not twilio_voice.is_dialable(identity.value):
        raise Conflict("The ticket has no phone conversation and its customer no phone number to call.", code="no-phone-number")
    phone_conversation = next((c for c in conversations if registry.adapter_for(c.account.kind).family == FAMILY), None)
    return identity.value, identity.id, phone_conversation


def _account(ticket: Ticket, conversation: ChannelConversation | None, account_id: int | None) -> ChannelAccount:
    if account_id is not None:
        account = db.session.get(ChannelAccount, account_id)
        if account is None or not can_place_calls(account):
            raise ValidationProblem("No hotline account that can place calls has this id.", errors={"account_id": ["Cannot place calls."]})
        return account
    if conversation is not None and can_place_calls(conversation.account):
        return conversation.account  # the same hotline the customer called (an inactive one is refused)
    candidates = [
        a
        for a in db.session.scalars(select(ChannelAccount).where(ChannelAccount.kind.like(f"{FAMILY}.%")).order_by(ChannelAccount.id))
        if can_place_calls(a)
    ]
    if not candidates:
        raise Conflict("No hotline account can place calls (connect a Twilio Voice account).", code="no-call-back-line")
    active = [a for a in candidates if a.is_active]
    same_department = [a for a in active if a.default_department_id == ticket.department_id]
    return (same_department or active or candidates)[0]


def _in_flight(ticket: Ticket) -> CallRecord | None:
    return db.session.scalars(
        select(CallRecord).where(
            CallRecord.ticket_id == ticket.id,
            CallRecord.direction == "outbound",
            CallRecord.status.in_(IN_FLIGHT),
            CallRecord.created_at > utcnow() - IN_FLIGHT_FOR,
        )
    ).first()


def _locked(call_id: int) -> CallRecord:
    query = select(CallRecord).where(CallRecord.id == call_id).with_for_update().execution_options(populate_existing=True)
    call = db.session.scalars(query).one()
    return call


def _place(call_id: int, agent_number: str) -> CallRecord:
    """Ask Twilio for the call, after the commit; no database lock is held while it answers."""
    call = db.session.get(CallRecord, call_id)
    assert call is not None
    account = db.session.get(ChannelAccount, call.account_id)
    assert account is not None
    adapter = registry.adapter_for(account.kind)
    callback_url = outbound.status_callback_url(account)
    kind, token, settings = account.kind, account.credentials_encrypted, dict(account.settings or {})
    to, hotline = call.to_number or "", call.from_number or ""
    db.session.commit()  # end the read transaction before the provider call
    placed, error = None, None
    try:
        placed = adapter.place_call(
            to, hotline, agent_number, callback_url, credential_vault.decrypt(token), settings, outbound.transport()
        )  # type: ignore[attr-defined]
    except (SendError, credential_vault.CredentialError) as exc:
        error = str(exc)
    except Exception as exc:  # an adapter bug: the record says so rather than staying 'dialing'
        log.exception("call-back %s through %s: the adapter failed", call_id, kind)
        error = f"{type(exc).__name__}: {exc}"
    call = _locked(call_id)
    if placed is not None:
        call.provider_call_id = placed.call_sid
    else:
        call.status = CallStatus.FAILED
        call.error = (error or "unknown error")[:500]
        call.end_cause = "failed"
        call.ended_at = utcnow()
    call.updated_at = utcnow()
    _announce(call)
    db.session.commit()
    return call


# --- status callbacks ---------------------------------------------------------------------------


def handle_status(record: InboundRecord) -> None:
    """One stored status callback of a call-back leg, inside processing.process_record's transaction."""
    progress = twilio_voice.parse_call_status(parse_form(record.body))
    call = db.session.scalars(
        select(CallRecord)
        .where(CallRecord.account_id == record.account_id, CallRecord.provider_call_id == progress.call_back_sid)
        .with_for_update()
    ).first()
    if call is None:
        # Twilio can call back before our commit stored its CallSid: retried later, dead-lettered if never known.
        from service_hub.inbound.processing import NotYetKnown

        raise NotYetKnown(f"No call-back has CallSid {progress.call_back_sid}.")
    apply_progress(call, progress, progress.occurred_at or record.received_at)
    if record.ticket_id is None:
        record.ticket_id = call.ticket_id


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return min(current, new) if current else new


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return max(round((end - start).total_seconds()), 0) if start and end else None


def apply_progress(call: CallRecord, progress: CallProgress, at: datetime) -> None:
    before = call.status
    if progress.status in ("queued", "initiated", "ringing"):
        if progress.status == "ringing":  # a phone rings (the agent's first, then the customer's)
            call.ringing_at = _earliest(call.ringing_at, at)
    elif progress.status == "in-progress":
        if progress.customer_leg:
            call.answered_at = _earliest(call.answered_at, at)  # the customer picked up
    elif progress.customer_leg:  # the customer's leg ended: that is how the call-back ended
        call.ended_at = at
        call.end_cause = "normal" if progress.status == "completed" else progress.status
        if progress.status == "completed" and progress.duration:
            call.answered_at = _earliest(call.answered_at, at - timedelta(seconds=progress.duration))
            call.talk_seconds = progress.duration
        if progress.status == "failed":
            call.error = f"Twilio could not reach the customer (failed{', error ' + progress.error_code if progress.error_code else ''})."
    else:  # the agent's leg ended; the customer's leg, if it was dialled, reports its own end
        if call.ended_at is None:
            call.ended_at = at
        if call.end_cause is None:
            call.end_cause = "not-connected" if progress.status == "completed" else f"agent-{progress.status}"[:32]
        if progress.status == "failed" and call.error is None:
            call.error = (
                f"Twilio could not reach the agent's phone (failed{', error ' + progress.error_code if progress.error_code else ''})."
            )
    if not (progress.customer_leg and progress.status == "completed" and progress.duration):
        call.talk_seconds = call.talk_seconds if call.talk_seconds is not None else _seconds(call.answered_at, call.ended_at)
    call.wait_seconds = _seconds(call.ringing_at, call.answered_at)
    call.status = _status(call)
    call.updated_at = utcnow()
    db.session.flush()
    _announce(call)
    if call.status == CallStatus.COMPLETED and before != CallStatus.COMPLETED:
        _callback_done(call)


def _status(call: CallRecord) -> CallStatus:
    """The status from the facts, whatever order they came in."""
    if call.answered_at and call.ended_at:
        return CallStatus.COMPLETED
    if call.answered_at:
        return CallStatus.ANSWERED
    if call.ended_at:
        failed = call.end_cause in ("failed", "agent-failed") or (call.status == CallStatus.FAILED and call.error is not None)
        return CallStatus.FAILED if failed else CallStatus.MISSED
    if call.ringing_at:
        return CallStatus.RINGING
    return CallStatus.DIALING


def _announce(call: CallRecord) -> None:
    if call.ticket_id is None:
        return
    payload: dict[str, Any] = {"ticket_id": call.ticket_id, "call_record_id": call.id, **call.as_dict()}
    record_event("call.updated", payload, [f"ticket:{call.ticket_id}"])


def _callback_done(call: CallRecord) -> None:
    """The customer was reached: the ticket's call-back task is done."""
    ticket = db.session.get(Ticket, call.ticket_id) if call.ticket_id else None
    if ticket is None or CALLBACK_TAG not in ticket.tags:
        return
    before = sorted(ticket.tags)
    ticket.tag_rows = [row for row in ticket.tag_rows if row.tag != CALLBACK_TAG]
    if CALLBACK_DONE_TAG not in ticket.tags:
        ticket.tag_rows.append(TicketTag(tag=CALLBACK_DONE_TAG))
    ticket.updated_at = utcnow()
    after = sorted([*(t for t in before if t != CALLBACK_TAG), CALLBACK_DONE_TAG])
    db.session.flush()
    audit(None, "ticket.updated", ticket_id=ticket.id, before={"tags": before}, after={"tags": after, "call_record_id": call.id})
    rooms = [f"ticket:{ticket.id}", f"department:{ticket.department_id}"] + ([f"agent:{ticket.assignee_id}"] if ticket.assignee_id else [])
    record_event("ticket.updated", {"ticket_id": ticket.id, "changes": {"tags": after}, "version": ticket.version}, rooms)
