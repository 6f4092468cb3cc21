"""/api/v1/departments and /api/v1/agents: everyone reads the organisation, admins change it."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_login import login_user
from flask_smorest import Blueprint

from service_hub.auth.principal import current_principal, require
from service_hub.org import operations
from service_hub.org.models import Agent, Department, Role
from service_hub.org.schemas import (
    AgentCreateSchema,
    AgentPageSchema,
    AgentQuerySchema,
    AgentSchema,
    AgentUpdateSchema,
    DepartmentCreateSchema,
    DepartmentQuerySchema,
    DepartmentSchema,
    DepartmentUpdateSchema,
)

blp = Blueprint("Org", __name__, url_prefix="/api/v1", description="Departments (centre > department > group) and agents")

ADMIN_ONLY = (Role.ADMIN,)


@blp.route("/departments")
class Departments(MethodView):
    @require("org:read")
    @blp.arguments(DepartmentQuerySchema, location="query")
    @blp.response(200, DepartmentSchema(many=True))
    def get(self, filters: dict[str, Any]) -> list[Department]:
        """Every department, flat and in id order; build the tree from parent_id."""
        return operations.list_departments(**filters)

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(DepartmentCreateSchema)
    @blp.response(201, DepartmentSchema)
    def post(self, data: dict[str, Any]) -> Department:
        """Create a centre (no parent), a department (in a centre) or a group (in a department or group)."""
        return operations.create_department(current_principal().agent, **data)


@blp.route("/departments/<int:department_id>")
class DepartmentItem(MethodView):
    @require("org:read")
    @blp.response(200, DepartmentSchema)
    def get(self, department_id: int) -> Department:
        """One department."""
        return operations.get_department(department_id)

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(DepartmentUpdateSchema)
    @blp.response(200, DepartmentSchema)
    def patch(self, changes: dict[str, Any], department_id: int) -> Department:
        """Rename, recode, move or (de)activate a department; its kind is fixed."""
        return operations.update_department(current_principal().agent, department_id, changes)

    @require("admin", roles=ADMIN_ONLY)
    @blp.response(204)
    def delete(self, department_id: int) -> None:
        """Delete a department with no members, sub-departments or tickets (409 otherwise; deactivate it)."""
        operations.delete_department(current_principal().agent, department_id)


@blp.route("/agents")
class Agents(MethodView):
    @require("org:read")
    @blp.arguments(AgentQuerySchema, location="query")
    @blp.response(200, AgentPageSchema)
    def get(self, filters: dict[str, Any]) -> dict[str, Any]:
        """Agents in id order, up to `limit` (at most 200) a page; continue with ?cursor=next_cursor."""
        agents, next_cursor = operations.list_agents(**filters)
        return {"items": agents, "next_cursor": next_cursor}

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(AgentCreateSchema)
    @blp.response(201, AgentSchema)
    def post(self, data: dict[str, Any]) -> Agent:
        """Create an agent; the email (case-insensitive) must be new."""
        return operations.create_agent(current_principal().agent, **data)


@blp.route("/agents/<int:agent_id>")
class AgentItem(MethodView):
    @require("org:read")
    @blp.response(200, AgentSchema)
    def get(self, agent_id: int) -> Agent:
        """One agent."""
        return operations.get_agent(agent_id)

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(AgentUpdateSchema)
    @blp.response(200, AgentSchema)
    def patch(self, changes: dict[str, Any], agent_id: int) -> Agent:
        """Change any of the agent's settable fields; a new password or deactivation logs them out everywhere."""
        principal = current_principal()
        agent = operations.update_agent(principal.agent, agent_id, changes)
        if principal.via == "session" and agent.id == principal.agent.id and agent.is_active:
            # An admin changing their own password ends their other sessions, not this one.
            login_user(agent)
        return agent
