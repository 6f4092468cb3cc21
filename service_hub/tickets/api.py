"""/api/v1/tickets and /api/v1/attachments: thin views over inbox queries and ticket operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from service_hub.auth.principal import current_principal, require
from service_hub.auth.scope import scope_of
from service_hub.core.errors import NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.keyset import Sort, SortKey, cursor_for, seek
from service_hub.org.models import Agent
from service_hub.tickets import inbox, operations
from service_hub.tickets.access import get_visible_ticket, visible_tickets_clause
from service_hub.tickets.attachments import path_for
from service_hub.tickets.models import Attachment, AttachmentStatus, AuditEvent, Message, Ticket
from service_hub.tickets.schemas import (
    AttachmentSchema,
    AuditEventSchema,
    InboxQuery,
    MessageListQuery,
    MessagePage,
    NewMessage,
    PostedMessage,
    TicketCreate,
    TicketDetail,
    TicketPage,
    TicketUpdate,
    UploadSchema,
)

blp = Blueprint("Tickets", __name__, url_prefix="/api/v1", description="Tickets, messages, notes, attachments and audit")

DETAIL_MESSAGES = 100
# Types a browser may show inline; everything else is served as an opaque download.
INLINE_SAFE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}


def _ticket(ticket_id: int) -> Ticket:
    return get_visible_ticket(current_principal().agent, ticket_id)


@blp.route("/tickets")
class Tickets(MethodView):
    @require("tickets:read")
    @blp.arguments(InboxQuery, location="query", unknown=RAISE)
    @blp.response(200, TicketPage)
    def get(self, args: dict[str, Any]) -> Response:
        """List tickets visible to me: filters, sort, keyset pages; search by number, text or customer."""
        agent = current_principal().agent
        # Already plain JSON types: sent as is, past the schema (documented by TicketPage).
        return jsonify(inbox.list_tickets(scope_of(agent), agent.id, args))

    @require("tickets:write")
    @blp.arguments(TicketCreate)
    @blp.response(201, TicketDetail)
    def post(self, data: dict[str, Any]) -> Ticket:
        """Open a ticket in one of my departments, for a known customer or one found or created by identity."""
        ticket = operations.create_ticket(current_principal(), data)
        return _detail(ticket)


@blp.route("/tickets/<int:ticket_id>")
class TicketItem(MethodView):
    @require("tickets:read")
    @blp.response(200, TicketDetail)
    def get(self, ticket_id: int) -> Ticket:
        """A ticket with its latest messages; 404 when it is not visible to me."""
        return _detail(_ticket(ticket_id))

    @require("tickets:write")
    @blp.arguments(TicketUpdate)
    @blp.response(200, TicketDetail)
    def patch(self, changes: dict[str, Any], ticket_id: int) -> Ticket:
        """Change status, priority, assignee, department, tags, subject or custom fields.

        Send the version you read; if someone changed the ticket since, the answer is 409.
        """
        return _detail(operations.update_ticket(current_principal(), _ticket(ticket_id), changes))


def _detail(ticket: Ticket) -> Ticket:
    newest = db.session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .options(joinedload(Message.author_agent).lazyload(Agent.memberships))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(DETAIL_MESSAGES)
    ).all()
    ticket.messages = list(reversed(newest))  # type: ignore[attr-defined]
    return ticket


MESSAGE_ORDER = Sort((SortKey(Message.created_at, kind=datetime), SortKey(Message.id)))


@blp.route("/tickets/<int:ticket_id>/messages")
class TicketMessages(MethodView):
    @require("tickets:read")
    @blp.arguments(MessageListQuery, location="query", unknown=RAISE)
    @blp.response(200, MessagePage)
    def get(self, args: dict[str, Any], ticket_id: int) -> dict[str, Any]:
        """The whole conversation, oldest first, in keyset pages."""
        ticket = _ticket(ticket_id)
        limit = args["limit"]
        rows = list(
            db.session.scalars(
                seek(select(Message).where(Message.ticket_id == ticket.id), MESSAGE_ORDER, args.get("cursor")).limit(limit + 1)
            )
        )
        return {"items": rows[:limit], "next_cursor": cursor_for(rows[limit - 1], MESSAGE_ORDER) if len(rows) > limit else None}

    @require("tickets:write")
    @blp.arguments(NewMessage)
    @blp.response(201, PostedMessage)
    def post(self, data: dict[str, Any], ticket_id: int) -> Message:
        """Reply to the customer through the ticket's channel, or add an internal note.

        With seen_message_id, `collision` reports colleagues' replies after it (and colleagues typing);
        with if_no_newer_reply such a reply is refused with 409 reply-collision instead of sent.
        """
        return operations.add_message(current_principal(), _ticket(ticket_id), data)


@blp.route("/tickets/<int:ticket_id>/audit")
class TicketAudit(MethodView):
    @require("tickets:read")
    @blp.response(200, AuditEventSchema(many=True))
    def get(self, ticket_id: int) -> list[AuditEvent]:
        """Who did what to this ticket, oldest first."""
        ticket = _ticket(ticket_id)
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id)))


@blp.route("/tickets/<int:ticket_id>/attachments")
class TicketAttachments(MethodView):
    @require("tickets:write")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(201, AttachmentSchema)
    def post(self, files: dict[str, Any], ticket_id: int) -> Attachment:
        """Upload a file to the ticket; reference its id in a message's attachment_ids."""
        ticket = _ticket(ticket_id)
        upload = request.files.get("file")
        if upload is None:
            raise ValidationProblem("Send the file as multipart field 'file'.", errors={"file": ["Missing."]})
        return operations.upload_attachment(current_principal(), ticket, upload, current_app.config["SERVICE_HUB"].max_attachment_bytes)


@blp.route("/attachments/<int:attachment_id>/content")
class AttachmentContent(MethodView):
    @require("tickets:read")
    @blp.response(200)
    def get(self, attachment_id: int) -> Response:
        """Download an attachment; always as a download, never rendered as our own page."""
        agent = current_principal().agent
        attachment = db.session.scalars(
            select(Attachment)
            .join(Ticket, Ticket.id == Attachment.ticket_id)
            .where(Attachment.id == attachment_id, visible_tickets_clause(scope_of(agent)))
        ).first()
        if attachment is None:
            raise NotFound(f"Attachment {attachment_id} does not exist or is not visible to you.")
        if attachment.status != AttachmentStatus.STORED:  # issue 3: a placeholder for media that did not arrive
            raise NotFound(f"Attachment {attachment_id} was not received: {attachment.note or attachment.status.value}")
        media_type = attachment.media_type if attachment.media_type in INLINE_SAFE_TYPES else "application/octet-stream"
        response = send_file(
            path_for(attachment.sha256), mimetype=media_type, as_attachment=True, download_name=attachment.filename, max_age=0
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
