"""The department tree (centre > department > group), read in one query and walked in memory.

Scope, routing, workflows and queues all ask the same questions of it: which centre a department
belongs to, what lies below it, what it does (its functions and those above it, up to its centre),
and which department of a centre does a given job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.org.models import Department, DepartmentKind


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    kind: DepartmentKind
    functions: tuple[str, ...]
    is_active: bool


@dataclass(frozen=True)
class DepartmentTree:
    nodes: dict[int, Node]
    children: dict[int | None, list[int]]

    @classmethod
    def load(cls) -> DepartmentTree:
        rows = db.session.execute(
            select(Department.id, Department.parent_id, Department.kind, Department.functions, Department.is_active)
        ).all()
        children: dict[int | None, list[int]] = defaultdict(list)
        for row in rows:
            children[row.parent_id].append(row.id)
        return cls({r.id: Node(r.id, r.parent_id, r.kind, tuple(r.functions or ()), r.is_active) for r in rows}, children)

    def ids(self) -> list[int]:
        return list(self.nodes)

    def _up(self, department_id: int) -> Iterable[Node]:
        """The department and those above it, stopping at its centre (a tree without one: its root)."""
        node, seen = self.nodes.get(department_id), set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            yield node
            if node.kind == DepartmentKind.CENTRE or node.parent_id is None:
                return
            node = self.nodes.get(node.parent_id)

    def centre_of(self, department_id: int) -> int | None:
        path = list(self._up(department_id))
        return path[-1].id if path else None

    def subtree(self, root: int) -> set[int]:
        """The department and everything below it."""
        found, stack = set(), [root]
        while stack:
            node = stack.pop()
            if node not in found:
                found.add(node)
                stack.extend(self.children.get(node, ()))
        return found

    def with_ancestors(self, departments: Iterable[int]) -> set[int]:
        """These departments and every one above them, to the top: the queues their members serve."""
        found: set[int] = set()
        for department_id in departments:
            node = self.nodes.get(department_id)
            while node is not None and node.id not in found:
                found.add(node.id)
                node = self.nodes.get(node.parent_id) if node.parent_id is not None else None
        return found

    def functions_of(self, department_id: int) -> set[str]:
        """What an active department does: its functions and those above it up to its centre (a
        hotline group is front line)."""
        node = self.nodes.get(department_id)
        if node is None or not node.is_active:
            return set()
        return {f for n in self._up(department_id) for f in n.functions}

    def holds(self, department_id: int, function: str) -> bool:
        return function in self.functions_of(department_id)

    def with_function(self, centre_id: int, function: str) -> int | None:
        """The active department of the centre that has the function itself; the lowest id if several."""
        found = [d for d in self.subtree(centre_id) if self.nodes[d].is_active and function in self.nodes[d].functions]
        return min(found, default=None)

    def all_functions(self) -> set[str]:
        return {f for n in self.nodes.values() if n.is_active for f in n.functions}
