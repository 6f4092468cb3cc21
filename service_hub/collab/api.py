"""/api/v1/notifications, ticket invitations and the case timeline: thin views over collab operations.

Mentions have no endpoint of their own: they are tokens in an internal note, posted through
POST /api/v1/tickets/<id>/messages with kind "note" (see collab.mentions for the syntax).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from service_hub.auth.principal import current_principal, require
from service_hub.collab import invitations, notifications, timeline
from service_hub.collab.schemas import (
    InvitationCreate,
    InvitationSchema,
    MarkRead,
    MarkReadResult,
    NotificationListQuery,
    NotificationPage,
    TimelinePage,
    TimelineQuery,
    UnreadCount,
)
from service_hub.tickets.access import get_visible_ticket
from service_hub.tickets.models import Ticket, TicketInvitation

blp = Blueprint("collab", __name__, url_prefix="/api/v1", description="Collaboration: mentions, notifications, invitations, timeline")


def _ticket(ticket_id: int) -> Ticket:
    return get_visible_ticket(current_principal().agent, ticket_id)


@blp.route("/notifications")
class Notifications(MethodView):
    @require("tickets:read")
    @blp.arguments(NotificationListQuery, location="query", unknown=RAISE)
    @blp.response(200, NotificationPage)
    def get(self, args: dict[str, Any]) -> Response:
        """My notifications, newest first, in keyset pages; ?unread=true for the unread only."""
        page = notifications.list_mine(
            current_principal().agent.id, unread_only=args["unread"], limit=args["limit"], cursor=args.get("cursor")
        )
        return jsonify(page)  # plain JSON types already, as NotificationPage documents


@blp.route("/notifications/unread-count")
class NotificationsUnread(MethodView):
    @require("tickets:read")
    @blp.response(200, UnreadCount)
    def get(self) -> dict[str, int]:
        """How many of my notifications are unread (the badge)."""
        return {"unread_count": notifications.unread_count(current_principal().agent.id)}


@blp.route("/notifications/read")
class NotificationsRead(MethodView):
    @require("tickets:write")
    @blp.arguments(MarkRead)
    @blp.response(200, MarkReadResult)
    def post(self, data: dict[str, Any]) -> dict[str, int]:
        """Mark my notifications read: these ids, or all up to an id; my other tabs get the new count."""
        return notifications.mark_read(current_principal(), ids=data.get("ids"), up_to_id=data.get("up_to_id"))


@blp.route("/tickets/<int:ticket_id>/invitations")
class TicketInvitations(MethodView):
    @require("tickets:read")
    @blp.response(200, InvitationSchema(many=True))
    def get(self, ticket_id: int) -> list[TicketInvitation]:
        """Departments invited onto this case, standing and revoked, oldest first."""
        return invitations.list_invitations(_ticket(ticket_id))

    @require("tickets:write")
    @blp.arguments(InvitationCreate)
    @blp.response(201, InvitationSchema)
    def post(self, data: dict[str, Any], ticket_id: int) -> TicketInvitation:
        """Invite another department onto the case; its members see it while the invitation stands.

        Only the ticket's assignee, a supervisor or an admin may invite.
        """
        return invitations.invite(current_principal(), _ticket(ticket_id), data["department_id"], data.get("note"))


@blp.route("/tickets/<int:ticket_id>/invitations/<int:invitation_id>")
class TicketInvitationItem(MethodView):
    @require("tickets:write")
    @blp.response(204)
    def delete(self, ticket_id: int, invitation_id: int) -> None:
        """Revoke an invitation: the department's members lose access unless they have it otherwise."""
        invitations.revoke(current_principal(), _ticket(ticket_id), invitation_id)


@blp.route("/tickets/<int:ticket_id>/timeline")
class TicketTimeline(MethodView):
    @require("tickets:read")
    @blp.arguments(TimelineQuery, location="query", unknown=RAISE)
    @blp.response(200, TimelinePage)
    def get(self, args: dict[str, Any], ticket_id: int) -> Response:
        """Messages, notes, workflow steps, invitations and SLA events of a case, oldest first, in keyset pages.

        Forwards with cursor; backwards from the end with latest, then before=prev_cursor.
        """
        page = timeline.timeline_page(
            _ticket(ticket_id), args["limit"], args.get("cursor"), before=args.get("before"), latest=args["latest"]
        )
        return jsonify(page)
