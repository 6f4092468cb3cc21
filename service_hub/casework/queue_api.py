"""/api/v1 queues: my presence, transfers with a reason, a department's queue in order, and its settings."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.principal import current_principal, require
from service_hub.auth.scope import scope_of
from service_hub.casework import assignment
from service_hub.casework.department_tasks import department_tasks
from service_hub.casework.queue_reads import QueueConfig
from service_hub.casework.queue_schemas import (
    DepartmentTasksPage,
    DepartmentTasksQuery,
    PresenceResult,
    PresenceUpdate,
    QueuePage,
    QueueQuery,
    QueueSettingsSchema,
    QueueSettingsUpdate,
    TransferRequest,
)
from service_hub.org.models import Role
from service_hub.tickets.access import get_visible_ticket
from service_hub.tickets.models import Ticket
from service_hub.tickets.schemas import TicketDetail

blp = Blueprint("Queues", __name__, url_prefix="/api/v1", description="Presence, assignment, transfers and department queues")

QUEUE_MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


@blp.route("/me/presence")
class MyPresence(MethodView):
    @require("tickets:write")
    @blp.arguments(PresenceUpdate)
    @blp.response(200, PresenceResult)
    def patch(self, data: dict[str, Any]) -> dict[str, Any]:
        """Go online, away or offline. Only online agents get work; going online hands you waiting tickets at once."""
        return assignment.set_presence(current_principal(), data["presence"])


@blp.route("/tickets/<int:ticket_id>/transfer")
class TicketTransfer(MethodView):
    @require("tickets:write")
    @blp.arguments(TransferRequest)
    @blp.response(200, TicketDetail)
    def post(self, data: dict[str, Any], ticket_id: int) -> Ticket:
        """Hand the ticket to an agent, another department's queue, or an agent there; the reason is audited.

        The agent must be online or away (never offline) and able to take it; send the version you read (409 if stale).
        """
        principal = current_principal()
        ticket = get_visible_ticket(principal.agent, ticket_id)
        return assignment.transfer_ticket(principal, ticket, **data)


@blp.route("/departments/<int:department_id>/queue")
class DepartmentQueue(MethodView):
    @require("tickets:read")
    @blp.arguments(QueueQuery, location="query")
    @blp.response(200, QueuePage)
    def get(self, args: dict[str, Any], department_id: int) -> dict[str, Any]:
        """The department's waiting (unassigned, active) tickets, best queue score first, with the score's parts."""
        agent = current_principal().agent
        return assignment.department_queue(scope_of(agent), department_id, args["limit"])


@blp.route("/departments/<int:department_id>/tasks")
class DepartmentTasks(MethodView):
    @require("tickets:read")
    @blp.arguments(DepartmentTasksQuery, location="query")
    @blp.response(200, DepartmentTasksPage)
    def get(self, args: dict[str, Any], department_id: int) -> dict[str, Any]:
        """The department's case work (its board): cases dispatched to it, its countersign tasks and the
        steps its functions own (returns, extension requests), nearest due first, with the actions you may take."""
        agent = current_principal().agent
        return department_tasks(agent, scope_of(agent), department_id, args["state"], args["limit"])


@blp.route("/departments/<int:department_id>/queue-settings")
class DepartmentQueueSettings(MethodView):
    @require("tickets:read")
    @blp.response(200, QueueSettingsSchema)
    def get(self, department_id: int) -> QueueConfig:
        """How the queue hands out work (the defaults until someone stores settings)."""
        return assignment.queue_settings(scope_of(current_principal().agent), department_id)

    @require("tickets:write", roles=QUEUE_MANAGERS)
    @blp.arguments(QueueSettingsUpdate)
    @blp.response(200, QueueSettingsSchema)
    def put(self, data: dict[str, Any], department_id: int) -> QueueConfig:
        """Set strategy, tier matching and auto-assign (supervisors of the department's centre, admins)."""
        principal = current_principal()
        return assignment.update_queue_settings(principal, scope_of(principal.agent), department_id, data)
