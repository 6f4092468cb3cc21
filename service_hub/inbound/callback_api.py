"""POST /api/v1/tickets/<id>/calls: an agent calls the customer back through the hotline (callback.py)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service_hub.auth.principal import current_principal, require
from service_hub.inbound import callback
from service_hub.inbound.call_models import CallRecord
from service_hub.tickets.access import get_visible_ticket

blp = Blueprint("Calls", __name__, url_prefix="/api/v1", description="Call-backs through the hotline")


class CallBackRequest(Schema):
    agent_number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=72),
        metadata={"description": "Where the agent answers: E.164 (+8613800138000) or client:<identity> (a Twilio Client softphone)."},
    )
    account_id = fields.Integer(
        load_default=None, metadata={"description": "The hotline account to call from; default: the ticket's, else the first active one."}
    )


class CallRecordSchema(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer(allow_none=True)
    account_id = fields.Integer()
    call_id = fields.String(allow_none=True, metadata={"description": "Twilio's CallSid, once it took the call."})
    direction = fields.String()
    status = fields.String(metadata={"description": "dialing, ringing, answered, completed, missed or failed"})
    to = fields.String(allow_none=True)
    from_ = fields.String(attribute="from", data_key="from", allow_none=True)
    agent_id = fields.Integer(allow_none=True)
    ringing_at = fields.String(allow_none=True)
    answered_at = fields.String(allow_none=True)
    ended_at = fields.String(allow_none=True)
    talk_seconds = fields.Integer(allow_none=True)
    end_cause = fields.String(allow_none=True)
    error = fields.String(allow_none=True, metadata={"description": "Why the call failed, in the provider's words."})


@blp.route("/tickets/<int:ticket_id>/calls")
class TicketCalls(MethodView):
    @require("tickets:write")
    @blp.arguments(CallBackRequest)
    @blp.response(201, CallRecordSchema)
    def post(self, data: dict[str, Any], ticket_id: int) -> dict[str, Any]:
        """Call the customer back: the agent's phone rings first, and once answered the customer is dialled.

        The answer is the call record: 'dialing' once Twilio took the call (its progress follows
        in "call.updated" events and on the timeline), or 'failed' with the provider's message.
        409: the hotline account is deactivated or has no number, the customer opted out of calls,
        or a call-back of this ticket is under way."""
        principal = current_principal()
        call: CallRecord = callback.request_call_back(principal, get_visible_ticket(principal.agent, ticket_id), data)
        return {"id": call.id, "ticket_id": call.ticket_id, "account_id": call.account_id, **call.as_dict()}
