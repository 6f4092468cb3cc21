"""/api/v1/reports/sla: SLA performance per department or agent over a period (supervisors, admins)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from service_hub.auth.principal import current_principal, require
from service_hub.auth.scope import scope_of
from service_hub.casework.reports import sla_report
from service_hub.org.models import Role

blp = Blueprint("Reports", __name__, url_prefix="/api/v1/reports", description="SLA reports for supervisors")


class ReportQuery(Schema):
    start = fields.AwareDateTime(required=True, data_key="from")
    end = fields.AwareDateTime(required=True, data_key="to")
    group_by = fields.String(load_default="department", validate=validate.OneOf(["department", "agent"]))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["end"] <= data["start"]:
            raise ValidationError("'to' must be after 'from'.", field_name="to")


class ReportRow(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "department or agent id; null: unassigned"})
    name = fields.String(allow_none=True)
    tickets = fields.Integer(metadata={"description": "tickets created in the period"})
    open = fields.Integer()
    breached = fields.Integer(metadata={"description": "tickets with any clock breached"})
    resolution_met_percent = fields.Float(allow_none=True)
    avg_first_response_seconds = fields.Float(allow_none=True, metadata={"description": "business seconds"})
    avg_resolution_seconds = fields.Float(allow_none=True, metadata={"description": "business seconds"})


@blp.route("/sla")
class SlaReport(MethodView):
    @require("tickets:read", roles=(Role.SUPERVISOR, Role.ADMIN))
    @blp.arguments(ReportQuery, location="query", unknown=RAISE)
    @blp.response(200, ReportRow(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Open, breached, met % and average first response and resolution, within your scope."""
        agent = current_principal().agent
        return sla_report(scope_of(agent), args["start"], args["end"], args["group_by"])
