"""Ticket use cases: each one checks, changes, audits and records its outbox events in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from service_hub.auth.principal import Principal
from service_hub.auth.scope import compute_scope, scope_of
from service_hub.casework import assignment, case_engine, routing_rules, sla_clocks
from service_hub.collab import mentions  # issue 6.5: a note's @mentions notify, in the note's transaction
from service_hub.core.errors import Conflict, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.customers.identities import normalise_identity
from service_hub.customers.models import ContactIdentity, Customer
from service_hub.inbound import outbound  # issue 3: replies go out through the ticket's channel
from service_hub.org.models import Agent, Department
from service_hub.realtime.presence_collision import collision_detail, reply_collision
from service_hub.tickets.access import customer_visible_clause
from service_hub.tickets.attachments import store_stream
from service_hub.tickets.audit import audit
from service_hub.tickets.content import html_to_text, sanitise_html
from service_hub.tickets.models import (
    Attachment,
    DeliveryStatus,
    Direction,
    Message,
    Priority,
    Ticket,
    TicketStatus,
    TicketTag,
)
from service_hub.tickets.numbers import next_ticket_number

# Fields whose before/after go into the audit trail and the outbox payload.
TRACKED = ("subject", "status", "priority", "assignee_id", "department_id", "tags", "custom_fields")


def _rooms(ticket: Ticket) -> list[str]:
    rooms = [f"ticket:{ticket.id}", f"department:{ticket.department_id}"]
    if ticket.assignee_id:
        rooms.append(f"agent:{ticket.assignee_id}")
    return rooms


def _plain(value: Any) -> Any:
    if isinstance(value, Priority):
        return value.name.lower()
    if hasattr(value, "value"):
        return value.value
    return value


def _snapshot(ticket: Ticket) -> dict[str, Any]:
    return {field: _plain(getattr(ticket, field)) for field in TRACKED}


def _active_department(department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None or not department.is_active:
        raise ValidationProblem("No such active department.", errors={"department_id": ["No such active department."]})
    return department


def _check_assignee(agent_id: int, department_id: int) -> Agent:
    """An assignee must be active and belong to the ticket's department or a group below it."""
    agent = db.session.get(Agent, agent_id)
    if agent is None or not agent.is_active:
        raise ValidationProblem("No such active agent.", errors={"assignee_id": ["No such active agent."]})
    if agent.role.value != "admin":
        reach = compute_scope(agent)
        if department_id not in reach.visible_department_ids:
            raise ValidationProblem(
                f"{agent.name} does not work in this ticket's department.",
                errors={"assignee_id": ["The agent is not a member of the ticket's department."]},
            )
    return agent


def _set_tags(ticket: Ticket, tags: list[str]) -> None:
    wanted = sorted({t.strip().lower() for t in tags})
    ticket.tag_rows = [row for row in ticket.tag_rows if row.tag in wanted]
    have = {row.tag for row in ticket.tag_rows}
    ticket.tag_rows.extend(TicketTag(tag=t) for t in wanted if t not in have)


def _find_or_create_customer(actor: Principal, data: dict[str, Any]) -> Customer:
    """Find the customer by any of the given identities, or create one; never expose a stranger."""
    normalised = [(i["kind"], i["account"], normalise_identity(i["kind"], i["value"])) for i in data["identities"]]
    for kind, account, value in normalised:
        found = db.session.scalars(
            select(ContactIdentity).where(ContactIdentity.kind == kind, ContactIdentity.account == account, ContactIdentity.value == value)
        ).first()
        if found is not None:
            return found.customer
    customer = Customer(name=data["name"].strip())
    customer.identities = [ContactIdentity(kind=k, account=a, value=v, display_value=None) for k, a, v in normalised]
    db.session.add(customer)
    db.session.flush()
    audit(actor, "customer.created", customer_id=customer.id, after={"name": customer.name, "identities": [v for _, _, v in normalised]})
    return customer


def _visible_customer(actor: Principal, customer_id: int) -> Customer:
    scope = scope_of(actor.agent)
    customer = db.session.scalars(select(Customer).where(Customer.id == customer_id, customer_visible_clause(scope, Customer.id))).first()
    if customer is None:
        raise ValidationProblem("No such customer.", errors={"customer_id": ["No such customer."]})
    if customer.merged_into_id is not None:
        raise ValidationProblem(
            "That customer was merged; use the surviving record.", errors={"customer_id": [f"Merged into {customer.merged_into_id}."]}
        )
    return customer


def _build_message(ticket: Ticket, direction: Direction, data: dict[str, Any], author: Agent | None, customer: Customer | None) -> Message:
    body_html = sanitise_html(data["body_html"]) if data.get("body_html") else None
    body_text = (data.get("body_text") or "").strip() or (html_to_text(body_html) if body_html else "")
    message = Message(
        ticket=ticket,
        direction=direction,
        channel=ticket.channel,
        author_agent_id=author.id if author else None,
        author_customer_id=customer.id if customer else None,
        body_text=body_text,
        body_html=body_html,
        # Replies wait for the channel adapter to send them and report delivery (issue 3).
        delivery_status=DeliveryStatus.QUEUED if direction == Direction.OUTBOUND else DeliveryStatus.NONE,
        created_at=utcnow(),
    )
    db.session.add(message)
    return message


def _attach(ticket: Ticket, message: Message, attachment_ids: list[int]) -> None:
    if not attachment_ids:
        return
    rows = db.session.scalars(select(Attachment).where(Attachment.id.in_(attachment_ids), Attachment.ticket_id == ticket.id)).all()
    if len(rows) != len(set(attachment_ids)) or any(r.message_id is not None for r in rows):
        raise ValidationProblem(
            "Attachments must be uploaded to this ticket and not yet used.", errors={"attachment_ids": ["Unknown or already used."]}
        )
    message.attachments.extend(rows)


def _ticket_customer(actor: Principal, data: dict[str, Any]) -> Customer:
    return _visible_customer(actor, data["customer_id"]) if "customer_id" in data else _find_or_create_customer(actor, data["customer"])


def create_ticket(actor: Principal, data: dict[str, Any]) -> Ticket:
    customer, routed = None, None
    if data.get("department_id") is None:
        # Routing reads the customer's tier, language and attributes, so the customer comes first.
        customer = _ticket_customer(actor, data)
        routed = routing_rules.route_new_ticket(actor.agent, data, customer)
        data = routed.ticket_data(data)
    department = _active_department(data["department_id"])
    scope = scope_of(actor.agent)
    if not scope.all_departments and department.id not in scope.visible_department_ids:
        # Intake may open a case only where the actor works; dispatching elsewhere is a later step.
        raise ValidationProblem(
            routed.invisible_detail() if routed else "You can only open tickets in your own departments.",
            errors={"department_id": ["Not one of your departments."]},
        )
    customer = customer or _ticket_customer(actor, data)
    now = utcnow()
    ticket = Ticket(
        number=next_ticket_number(),
        subject=data["subject"].strip(),
        status=TicketStatus.NEW,
        priority=data.get("priority", Priority.NORMAL),
        channel=data["channel"],
        customer=customer,
        department_id=department.id,
        tier=customer.tier,
        custom_fields=(data.get("custom_fields") or {}) | ({"category": data["category"]} if data.get("category") else {}),
        created_at=now,
        updated_at=now,
    )
    if data.get("assignee_id"):
        ticket.assignee_id = _check_assignee(data["assignee_id"], department.id).id
    _set_tags(ticket, data.get("tags") or [])
    db.session.add(ticket)
    if data.get("message"):
        message = _build_message(ticket, Direction.INBOUND, data["message"], None, customer)
        ticket.last_message_at = message.created_at
    db.session.flush()
    if data.get("message"):
        _attach(ticket, message, data["message"].get("attachment_ids") or [])
    # The workflow starts the SLA clocks (targets from the policy of the ticket's tier and priority).
    case_engine.start_case(actor, ticket, now)
    if ticket.assignee_id and ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN  # someone owns it from the start (the intake step says new)
    audit(actor, "ticket.created", ticket_id=ticket.id, after=_snapshot(ticket) | {"number": ticket.number, "customer_id": customer.id})
    if routed is not None:
        audit(actor, "ticket.routed", ticket_id=ticket.id, after=routed.audit_after())
    record_event("ticket.created", {"ticket_id": ticket.id, "number": ticket.number, **_snapshot(ticket)}, _rooms(ticket))
    # Unassigned, it joins its department's queue: an online agent with room takes it now, or it waits.
    assignment.auto_assign(ticket, now)
    db.session.commit()
    return ticket


def update_ticket(actor: Principal, ticket: Ticket, changes: dict[str, Any]) -> Ticket:
    expected = changes.pop("version")
    if expected != ticket.version:
        raise Conflict(
            f"Ticket #{ticket.number} was changed by someone else (version {ticket.version}, you sent {expected}); reload and try again."
        )
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"Ticket #{ticket.number} is closed and can no longer change; open a follow-up ticket instead.")
    before = _snapshot(ticket)
    if "department_id" in changes and changes["department_id"] != ticket.department_id:
        ticket.department_id = _active_department(changes["department_id"]).id
        # A new department means a new owner: the old assignee keeps it only if they work there.
        if ticket.assignee_id and "assignee_id" not in changes:
            try:
                _check_assignee(ticket.assignee_id, ticket.department_id)
            except ValidationProblem:
                ticket.assignee_id = None
    if "assignee_id" in changes:
        ticket.assignee_id = _check_assignee(changes["assignee_id"], ticket.department_id).id if changes["assignee_id"] else None
        if ticket.assignee_id and ticket.status == TicketStatus.NEW and "status" not in changes:
            ticket.status = TicketStatus.OPEN
    for field in ("subject", "priority", "custom_fields"):
        if field in changes:
            setattr(ticket, field, changes[field])
    if "tags" in changes:
        _set_tags(ticket, changes["tags"])
    if "status" in changes and changes["status"] != ticket.status:
        old_status = ticket.status
        _change_status(ticket, changes["status"])
        sla_clocks.on_status_change(ticket, old_status, ticket.status, utcnow())
    after = _snapshot(ticket)
    changed = {k for k in TRACKED if before[k] != after[k]}
    if not changed:
        return ticket
    ticket.updated_at = utcnow()
    audit(actor, "ticket.updated", ticket_id=ticket.id, before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    rooms = sorted(set(_rooms(ticket)) | ({f"department:{before['department_id']}"} if "department_id" in changed else set()))
    record_event(
        "ticket.updated", {"ticket_id": ticket.id, "changes": {k: after[k] for k in changed}, "version": ticket.version + 1}, rooms
    )
    # A solved, closed or handed-back ticket frees its assignee's slot; an unassigned one joins the queue.
    assignment.refill_after_update(ticket, previous_assignee_id=before["assignee_id"], previous_status=before["status"])
    db.session.commit()
    return ticket


def _change_status(ticket: Ticket, status: TicketStatus) -> None:
    now = utcnow()
    if status == ticket.status:
        return
    if status == TicketStatus.NEW:
        raise ValidationProblem("A ticket cannot go back to new.", errors={"status": ["Cannot go back to new."]})
    ticket.set_status(status, now)


def add_message(actor: Principal, ticket: Ticket, data: dict[str, Any]) -> Message:
    if ticket.status == TicketStatus.CLOSED and data["kind"] == "reply":
        raise Conflict(f"Ticket #{ticket.number} is closed; replies go to a follow-up ticket.")
    # Collision check (issue 6 item 4, see realtime.presence_collision): a colleague's reply the
    # sender had not seen, or a colleague typing. Refused only when the client asks for it.
    seen_message_id, refuse_on_newer = data.pop("seen_message_id", None), data.pop("if_no_newer_reply", False)
    collision = reply_collision(ticket.id, actor.agent.id, seen_message_id) if data["kind"] == "reply" else None
    if collision and refuse_on_newer and collision["newer_replies"]:
        raise Conflict(collision_detail(collision), errors={"collision": collision}, code="reply-collision", title="A colleague replied")
    direction = Direction.OUTBOUND if data["kind"] == "reply" else Direction.NOTE
    # Collaboration (issue 6.5): a note's @mentions are checked before anything is written.
    mentioned = mentions.resolve_mentions(ticket, data) if direction == Direction.NOTE else None
    message = _build_message(ticket, direction, data, actor.agent, None)
    message.collision = collision  # type: ignore[attr-defined]  # shown in the response, not stored
    db.session.flush()
    _attach(ticket, message, data.get("attachment_ids") or [])
    if direction == Direction.OUTBOUND:
        ticket.last_message_at = message.created_at
        ticket.first_responded_at = ticket.first_responded_at or message.created_at
        if ticket.status == TicketStatus.NEW:
            ticket.status = TicketStatus.OPEN
        ticket.updated_at = message.created_at
        sla_clocks.on_agent_reply(ticket, message.created_at)
    audit(actor, "message.added", ticket_id=ticket.id, after={"message_id": message.id, "direction": direction.value})
    record_event(
        "message.created",
        {"ticket_id": ticket.id, "message_id": message.id, "direction": direction.value, "author_id": actor.agent.id},
        _rooms(ticket),
    )
    if mentioned:  # collaboration (issue 6.5): one notification per mentioned agent, same transaction
        mentions.notify_mentioned(actor, ticket, message, mentioned)
    # Channels (issue 3): a reply on a channel ticket becomes an outbound delivery in this
    # transaction (409 if the customer opted out), and is sent once the transaction commits.
    delivery_id = outbound.prepare_reply(ticket, message) if direction == Direction.OUTBOUND else None
    db.session.commit()
    outbound.enqueue_send(delivery_id)
    return message


def upload_attachment(actor: Principal, ticket: Ticket, upload: FileStorage, max_bytes: int) -> Attachment:
    filename = (upload.filename or "attachment").replace("\\", "/").rsplit("/", 1)[-1][:255] or "attachment"
    try:
        sha, size = store_stream(upload.stream, max_bytes)
    except ValueError as exc:
        raise ValidationProblem(str(exc), errors={"file": [str(exc)]}, status=413, code="too-large", title="Attachment too large") from None
    attachment = Attachment(
        ticket_id=ticket.id,
        filename=filename,
        media_type=(upload.mimetype or "application/octet-stream")[:127],
        size=size,
        sha256=sha,
        uploaded_by_id=actor.agent.id,
    )
    db.session.add(attachment)
    db.session.flush()
    audit(actor, "attachment.uploaded", ticket_id=ticket.id, after={"attachment_id": attachment.id, "filename": filename, "size": size})
    db.session.commit()
    return attachment


# --- inbound contacts (issue 3) -------------------------------------------------------------------
# No agent acts: service_hub.inbound.processing calls these inside its own transaction and commits
# them together with the raw record's state, so a crash leaves neither half.


def open_inbound_ticket(customer: Customer, data: dict[str, Any], department_id: int) -> tuple[Ticket, Message]:
    """A new ticket for a customer's contact on a channel; the caller chose the department."""
    now = data["message"].get("created_at") or utcnow()
    ticket = Ticket(
        number=next_ticket_number(),
        subject=data["subject"].strip()[:300] or "(no text)",
        status=TicketStatus.NEW,
        priority=data.get("priority", Priority.NORMAL),
        channel=data["channel"],
        customer=customer,
        department_id=department_id,
        tier=customer.tier,
        custom_fields=dict(data.get("custom_fields") or {}),
        created_at=now,
        updated_at=now,
    )
    _set_tags(ticket, data.get("tags") or [])
    db.session.add(ticket)
    message = _build_message(ticket, Direction.INBOUND, data["message"], None, customer)
    message.created_at = now
    ticket.last_message_at = now
    db.session.flush()
    case_engine.start_case(None, ticket, now)
    audit(None, "ticket.created", ticket_id=ticket.id, after=_snapshot(ticket) | {"number": ticket.number, "customer_id": customer.id})
    record_event("ticket.created", {"ticket_id": ticket.id, "number": ticket.number, **_snapshot(ticket)}, _rooms(ticket))
    assignment.auto_assign(ticket, now)
    return ticket, message


def add_inbound_message(ticket: Ticket, customer: Customer, data: dict[str, Any]) -> Message:
    """The customer wrote again on an open ticket: the message, the next-response clock, a pending ticket reopened."""
    message = _build_message(ticket, Direction.INBOUND, data, None, customer)
    message.created_at = data.get("created_at") or utcnow()
    db.session.flush()
    ticket.last_message_at = max(ticket.last_message_at or message.created_at, message.created_at)
    ticket.updated_at = utcnow()
    if ticket.status in (TicketStatus.PENDING, TicketStatus.ON_HOLD):
        old_status = ticket.status
        ticket.set_status(TicketStatus.OPEN, ticket.updated_at)
        sla_clocks.on_status_change(ticket, old_status, ticket.status, ticket.updated_at)
    sla_clocks.on_customer_message(ticket, ticket.updated_at)
    audit(None, "message.added", ticket_id=ticket.id, after={"message_id": message.id, "direction": Direction.INBOUND.value})
    record_event(
        "message.created",
        {"ticket_id": ticket.id, "message_id": message.id, "direction": Direction.INBOUND.value, "author_id": None},
        _rooms(ticket),
    )
    return message


def add_inbound_attachments(message: Message, files: list[dict[str, Any]]) -> list[Attachment]:
    """The customer's media on their message (issue 3): files already in storage, or placeholders with
    their reason; service_hub.inbound.media_intake checked them, the caller's transaction commits."""
    rows = [
        Attachment(
            ticket_id=message.ticket_id,
            message=message,
            filename=f["filename"],
            media_type=f["media_type"],
            size=f["size"],
            sha256=f["sha256"],
            status=f["status"],
            note=f.get("note"),
        )
        for f in files
    ]
    db.session.add_all(rows)
    db.session.flush()
    if rows:
        summary = [{"attachment_id": r.id, "filename": r.filename, "size": r.size, "status": r.status.value} for r in rows]
        audit(None, "attachment.received", ticket_id=message.ticket_id, after={"message_id": message.id, "attachments": summary})
    return rows
