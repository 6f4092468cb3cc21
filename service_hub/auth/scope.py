"""Department scope: which departments' work a user may see, from role and memberships.

Agents and back-office staff see their departments and everything below them; supervisors see
the whole centre their departments belong to; admins see everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from service_hub.org.models import Agent, Role
from service_hub.org.tree import DepartmentTree


@dataclass(frozen=True)
class DepartmentScope:
    agent_id: int
    all_departments: bool
    visible_department_ids: frozenset[int]
    member_department_ids: frozenset[int]


def compute_scope(agent: Agent) -> DepartmentScope:
    members = frozenset(agent.department_ids)
    if agent.role == Role.ADMIN:
        return DepartmentScope(agent.id, True, frozenset(), members)
    tree = DepartmentTree.load()
    roots = {tree.centre_of(d) or d for d in members} if agent.role == Role.SUPERVISOR else set(members)
    visible: set[int] = set()
    for root in roots:
        visible |= tree.subtree(root)
    return DepartmentScope(agent.id, False, frozenset(visible), members)


def scope_of(agent: Agent) -> DepartmentScope:
    """The scope of the agent making this request, computed once per request."""
    cached: DepartmentScope | None = g.get("department_scope")
    if cached is None or cached.agent_id != agent.id:
        cached = compute_scope(agent)
        g.department_scope = cached
    return cached
