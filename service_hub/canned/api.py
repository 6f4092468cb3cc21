"""/api/v1/canned-responses and the render endpoint under /api/v1/tickets/<id>/canned-responses.

Everyone reads the responses offered to them; supervisors and admins write (see operations).
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from service_hub.auth.principal import current_agent, current_principal, require
from service_hub.canned import operations
from service_hub.canned.schemas import CannedCreate, CannedListArgs, CannedOut, CannedPage, CannedUpdate, RenderedOut

blp = Blueprint("CannedResponses", __name__, url_prefix="/api/v1", description="Canned responses with {{variables}}")


@blp.route("/canned-responses")
class CannedResponses(MethodView):
    @require("tickets:read")
    @blp.arguments(CannedListArgs, location="query", unknown=RAISE)
    @blp.response(200, CannedPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The canned responses offered to me: global ones and those of my departments; q searches
        title, shortcut and body."""
        return {"items": operations.list_responses(current_agent(), **args)}

    @require("tickets:write")
    @blp.arguments(CannedCreate)
    @blp.response(201, CannedOut)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a response (supervisors for their departments, admins for any and for everyone).
        A shortcut already used in the same scope is 409."""
        row = operations.create_response(current_principal(), data)
        return operations.view(current_agent(), row)


@blp.route("/canned-responses/<int:response_id>")
class CannedResponseItem(MethodView):
    @require("tickets:read")
    @blp.response(200, CannedOut)
    def get(self, response_id: int) -> dict[str, Any]:
        """One canned response; 404 when it is not offered to me."""
        return operations.view(current_agent(), operations.get_visible(current_agent(), response_id))

    @require("tickets:write")
    @blp.arguments(CannedUpdate)
    @blp.response(200, CannedOut)
    def patch(self, changes: dict[str, Any], response_id: int) -> dict[str, Any]:
        """Change a response. Send the version you read; if someone changed it since, the answer is 409."""
        row = operations.update_response(current_principal(), response_id, changes)
        return operations.view(current_agent(), row)

    @require("tickets:write")
    @blp.response(204)
    def delete(self, response_id: int) -> None:
        """Delete a response."""
        operations.delete_response(current_principal(), response_id)


@blp.route("/tickets/<int:ticket_id>/canned-responses/<int:response_id>/render")
class CannedResponseRender(MethodView):
    @require("tickets:read")
    @blp.response(200, RenderedOut)
    def get(self, ticket_id: int, response_id: int) -> dict[str, Any]:
        """The response's body with this ticket's variables filled in: {{customer.name}},
        {{customer.number}}, {{ticket.number}}, {{ticket.subject}}, {{agent.name}} (you),
        {{department.name}}. Unknown variables stay as written and are listed in `unknown`."""
        return operations.render_for_ticket(current_agent(), ticket_id, response_id)
