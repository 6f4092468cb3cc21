"""/api/v1/tickets/<id>/case: the workflow of a ticket, the actions allowed now, and its history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import or_, select

from service_hub.auth.principal import current_principal, require
from service_hub.casework import case_engine
from service_hub.casework.models import CaseTask, SlaClock
from service_hub.casework.schemas import ActionRequest, CaseSchema
from service_hub.core.extensions import db
from service_hub.tickets.access import get_visible_ticket
from service_hub.tickets.models import AuditEvent, Ticket
from service_hub.tickets.schemas import AuditEventSchema

blp = Blueprint("Cases", __name__, url_prefix="/api/v1/tickets", description="Workflows: steps, actions, tasks, SLA clocks, history")


def _view(ticket: Ticket) -> dict[str, Any]:
    record, actions = case_engine.available(current_principal().agent, ticket)
    definition = case_engine.registry().get(record.definition_key, record.definition_version)
    return {
        "ticket_id": ticket.id,
        "version": ticket.version,
        "workflow": record.definition_key,
        "workflow_version": record.definition_version,
        "workflow_name": definition.name,
        "step": record.step,
        "step_name": definition.step(record.step).name or record.step,
        "finished": record.finished,
        "fields_": record.fields,
        "tasks": db.session.scalars(select(CaseTask).where(CaseTask.ticket_id == ticket.id).order_by(CaseTask.id)).all(),
        "clocks": db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id).order_by(SlaClock.id)).all(),
        "actions": actions,
    }


@blp.route("/<int:ticket_id>/case")
class Case(MethodView):
    @require("tickets:read")
    @blp.response(200, CaseSchema)
    def get(self, ticket_id: int) -> dict[str, Any]:
        """The ticket's workflow: where it stands, its tasks and clocks, and what you may do now."""
        return _view(get_visible_ticket(current_principal().agent, ticket_id))


@blp.route("/<int:ticket_id>/case/actions")
class CaseActions(MethodView):
    @require("tickets:write")
    @blp.arguments(ActionRequest)
    @blp.response(200, CaseSchema)
    def post(self, data: dict[str, Any], ticket_id: int) -> dict[str, Any]:
        """Take a workflow action (dispatch, acknowledge, return, extend, suspend, urge, close, ...).

        Refusals say why: 403 when your role or department may not, 422 with the missing fields or
        the guard that failed, 409 when the ticket changed since you read it.
        """
        principal = current_principal()
        ticket = get_visible_ticket(principal.agent, ticket_id)
        case_engine.perform(principal, ticket, data["action"], data["inputs"], data["task_id"], data["version"])
        # After a dispatch the case may have left the caller's departments; show what it still may see.
        return _view(get_visible_ticket(principal.agent, ticket_id))


@blp.route("/<int:ticket_id>/case/history")
class CaseHistory(MethodView):
    @require("tickets:read")
    @blp.response(200, AuditEventSchema(many=True))
    def get(self, ticket_id: int) -> list[AuditEvent]:
        """Workflow steps and SLA events of the case, oldest first."""
        ticket = get_visible_ticket(current_principal().agent, ticket_id)
        query = select(AuditEvent).where(
            AuditEvent.ticket_id == ticket.id, or_(AuditEvent.action.like("workflow.%"), AuditEvent.action.like("sla.%"))
        )
        return list(db.session.scalars(query.order_by(AuditEvent.id)))
