"""Department scope: which departments' work a user may see, from role and memberships.

Agents and back-office staff see their departments and everything below them; supervisors see
the whole centre their departments belong to; admins see everything.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import g
from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.org.models import Agent, Department, DepartmentKind, Role


@dataclass(frozen=True)
class DepartmentScope:
    agent_id: int
    all_departments: bool
    visible_department_ids: frozenset[int]
    member_department_ids: frozenset[int]


def _tree() -> tuple[dict[int, int | None], dict[int, DepartmentKind], dict[int | None, list[int]]]:
    rows = db.session.execute(select(Department.id, Department.parent_id, Department.kind)).all()
    parent = {r.id: r.parent_id for r in rows}
    kind = {r.id: r.kind for r in rows}
    children: dict[int | None, list[int]] = defaultdict(list)
    for r in rows:
        children[r.parent_id].append(r.id)
    return parent, kind, children


def _subtree(root: int, children: dict[int | None, list[int]]) -> set[int]:
    found, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node not in found:
            found.add(node)
            stack.extend(children.get(node, ()))
    return found


def _centre_of(dept: int, parent: dict[int, int | None], kind: dict[int, DepartmentKind]) -> int:
    node: int | None = dept
    while node is not None:
        if kind.get(node) == DepartmentKind.CENTRE:
            return node
        if parent.get(node) is None:
            return node
        node = parent[node]
    return dept


def compute_scope(agent: Agent) -> DepartmentScope:
    members = frozenset(agent.department_ids)
    if agent.role == Role.ADMIN:
        return DepartmentScope(agent.id, True, frozenset(), members)
    parent, kind, children = _tree()
    roots = {_centre_of(d, parent, kind) for d in members} if agent.role == Role.SUPERVISOR else set(members)
    visible: set[int] = set()
    for root in roots:
        visible |= _subtree(root, children)
    return DepartmentScope(agent.id, False, frozenset(visible), members)


def scope_of(agent: Agent) -> DepartmentScope:
    """The scope of the agent making this request, computed once per request."""
    cached: DepartmentScope | None = g.get("department_scope")
    if cached is None or cached.agent_id != agent.id:
        cached = compute_scope(agent)
        g.department_scope = cached
    return cached
