"""/api/v1/routing-rules: supervisors and admins read the rules and dry-run them, admins change them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.principal import current_principal, require
from service_hub.casework import routing_rules
from service_hub.casework.models import RoutingRuleRow
from service_hub.casework.routing_schemas import (
    DryRunResultSchema,
    DryRunSchema,
    ReorderSchema,
    RoutingRuleCreateSchema,
    RoutingRuleUpdateSchema,
    StoredRuleSchema,
)
from service_hub.org.models import Role

blp = Blueprint(
    "Routing",
    __name__,
    url_prefix="/api/v1/routing-rules",
    description="Ordered routing rules: a new ticket's workflow, department and base priority",
)

READERS = (Role.SUPERVISOR, Role.ADMIN)
ADMIN_ONLY = (Role.ADMIN,)


def _stored(row: RoutingRuleRow) -> dict[str, Any]:
    rule = routing_rules.rule_of(row)
    return {
        "id": row.id,
        "name": rule.name,
        "position": rule.position,
        "enabled": rule.enabled,
        "conditions": rule.conditions,
        "outcome": rule.outcome,
        "updated_at": row.updated_at,
    }


@blp.route("")
class RoutingRules(MethodView):
    @require("org:read", roles=READERS)
    @blp.response(200, StoredRuleSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every rule in the order they are tried; empty means the built-in default routes."""
        return [_stored(row) for row in routing_rules.list_rules()]

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(RoutingRuleCreateSchema)
    @blp.response(201, StoredRuleSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add a rule; the whole set must stay valid (the last enabled rule has no conditions), else 422."""
        return _stored(routing_rules.create_rule(current_principal().agent, data))


@blp.route("/<int:rule_id>")
class RoutingRuleItem(MethodView):
    @require("org:read", roles=READERS)
    @blp.response(200, StoredRuleSchema)
    def get(self, rule_id: int) -> dict[str, Any]:
        """One rule."""
        return _stored(routing_rules.get_rule(rule_id))

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(RoutingRuleUpdateSchema)
    @blp.response(200, StoredRuleSchema)
    def patch(self, changes: dict[str, Any], rule_id: int) -> dict[str, Any]:
        """Rename, (dis)able, move, or replace the conditions or the outcome; the set must stay valid."""
        return _stored(routing_rules.update_rule(current_principal().agent, rule_id, changes))

    @require("admin", roles=ADMIN_ONLY)
    @blp.response(204)
    def delete(self, rule_id: int) -> None:
        """Delete a rule; refused (422) if the rest would not end with a default rule. Deleting all is allowed."""
        routing_rules.delete_rule(current_principal().agent, rule_id)


@blp.route("/reorder")
class RoutingRulesReorder(MethodView):
    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(ReorderSchema)
    @blp.response(200, StoredRuleSchema(many=True))
    def post(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Put every rule in a new order (positions become 1..n) in one transaction."""
        return [_stored(row) for row in routing_rules.reorder_rules(current_principal().agent, data["ids"])]


@blp.route("/dry-run")
class RoutingDryRun(MethodView):
    @require("org:read", roles=READERS)
    @blp.arguments(DryRunSchema)
    @blp.response(200, DryRunResultSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Which rule a ticket like this would match, where it would go, and why; nothing is stored."""
        return routing_rules.dry_run(current_principal().agent, data)
