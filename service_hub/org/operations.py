"""Organisation use cases: keep the department tree well formed and agents' accounts consistent.

Each mutation is one transaction. Org changes write no AuditEvent rows (those follow tickets
and customers); they are logged at INFO with the acting admin instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError

from service_hub.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from service_hub.core.errors import Conflict, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.keyset import Sort, SortKey, cursor_for, seek
from service_hub.org.models import Agent, Department, DepartmentKind, DepartmentMembership, Presence, Role

log = logging.getLogger(__name__)

AGENT_ORDER = Sort((SortKey(Agent.id),))

# Which kinds of parent each kind of node may hang under; None means "at the root".
ALLOWED_PARENT_KINDS: dict[DepartmentKind, frozenset[DepartmentKind | None]] = {
    DepartmentKind.CENTRE: frozenset({None}),
    DepartmentKind.DEPARTMENT: frozenset({DepartmentKind.CENTRE}),
    DepartmentKind.GROUP: frozenset({DepartmentKind.DEPARTMENT, DepartmentKind.GROUP}),
}
PARENT_RULES: dict[DepartmentKind, str] = {
    DepartmentKind.CENTRE: "A centre has no parent.",
    DepartmentKind.DEPARTMENT: "A department's parent must be a centre.",
    DepartmentKind.GROUP: "A group's parent must be a department or another group.",
}


# Departments


def list_departments(
    *, parent_id: int | None = None, kind: DepartmentKind | None = None, is_active: bool | None = None
) -> list[Department]:
    """The whole tree, flat: it is small, and the browser builds the tree from parent_id."""
    query = select(Department).order_by(Department.id)
    if parent_id is not None:
        query = query.where(Department.parent_id == parent_id)
    if kind is not None:
        query = query.where(Department.kind == kind)
    if is_active is not None:
        query = query.where(Department.is_active == is_active)
    return list(db.session.scalars(query))


def get_department(department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(f"Department {department_id} does not exist.")
    return department


def create_department(
    actor: Agent,
    *,
    code: str,
    name: str,
    kind: DepartmentKind,
    parent_id: int | None,
    is_active: bool = True,
    functions: Iterable[str] = (),
) -> Department:
    """A new centre, department or group; its kind decides what its parent may be."""
    _check_code_free(code)
    _check_parent(kind, parent_id, moving=None)
    department = Department(code=code, name=name, kind=kind, parent_id=parent_id, is_active=is_active, functions=_unique(functions))
    db.session.add(department)
    _commit_or_conflict(f"The code '{code}' is already used by another department.")
    log.info("department %s (%s, %s) created by agent %s", department.id, code, kind.value, actor.id)
    return department


def update_department(actor: Agent, department_id: int, changes: Mapping[str, Any]) -> Department:
    """PATCH a department; moving it re-checks the tree rules and refuses cycles."""
    department = get_department(department_id)
    # Check everything before changing anything: a refused request leaves the session clean.
    if "code" in changes and changes["code"] != department.code:
        _check_code_free(changes["code"])
    if "parent_id" in changes and changes["parent_id"] != department.parent_id:
        _check_parent(department.kind, changes["parent_id"], moving=department)
    for name in ("code", "name", "parent_id", "is_active"):
        if name in changes:
            setattr(department, name, changes[name])
    if "functions" in changes:
        department.functions = _unique(changes["functions"])
    _commit_or_conflict(f"The code '{department.code}' is already used by another department.")
    log.info("department %s updated by agent %s: %s", department.id, actor.id, sorted(changes))
    return department


def delete_department(actor: Agent, department_id: int) -> None:
    """Delete a department nothing refers to; anything with history should be deactivated instead."""
    department = get_department(department_id)
    children = _count(Department, Department.parent_id == department.id)
    if children:
        raise Conflict(
            f"Department {department.code} has {children} sub-department(s); move or delete them first, or deactivate it instead."
        )
    members = _count(DepartmentMembership, DepartmentMembership.department_id == department.id)
    if members:
        raise Conflict(f"Department {department.code} has {members} member(s); remove them first, or deactivate it instead.")
    db.session.delete(department)
    # Tickets refer to departments with ON DELETE RESTRICT: the database is the check that cannot
    # race, and org need not read the tickets' table.
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"Department {department_id} still has tickets; deactivate it instead.") from None
    log.info("department %s deleted by agent %s", department_id, actor.id)


def _check_code_free(code: str) -> None:
    if db.session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise Conflict(f"The code '{code}' is already used by another department.")


def _check_parent(kind: DepartmentKind, parent_id: int | None, *, moving: Department | None) -> None:
    """Centre > department > group(s): a centre is a root, a department sits in a centre, a group in
    a department or another group. When moving, the new parent must not lie below the node itself."""
    parent = db.session.get(Department, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        raise ValidationProblem("The parent does not exist.", errors={"parent_id": [f"Department {parent_id} does not exist."]})
    if (parent.kind if parent else None) not in ALLOWED_PARENT_KINDS[kind]:
        raise ValidationProblem(PARENT_RULES[kind], errors={"parent_id": [PARENT_RULES[kind]]})
    if moving is not None and parent is not None and moving.id in _ancestor_ids(parent):
        raise ValidationProblem(
            "A department cannot be moved below itself.",
            errors={"parent_id": [f"Department {parent.id} is {moving.code} itself or lies below it."]},
        )


def _ancestor_ids(department: Department) -> set[int]:
    """The department and every node above it (the guard stops on a tree that is already bad)."""
    seen: set[int] = set()
    node: Department | None = department
    while node is not None and node.id not in seen:
        seen.add(node.id)
        node = node.parent
    return seen


# Agents


def list_agents(
    *,
    department_id: int | None = None,
    role: Role | None = None,
    q: str | None = None,
    is_active: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Agent], str | None]:
    """One keyset page of agents in id order and the cursor of the next page (None on the last)."""
    query = select(Agent)
    if department_id is not None:
        query = query.where(Agent.id.in_(select(DepartmentMembership.agent_id).where(DepartmentMembership.department_id == department_id)))
    if role is not None:
        query = query.where(Agent.role == role)
    if is_active is not None:
        query = query.where(Agent.is_active == is_active)
    if q:
        query = query.where(_matches(q))
    agents = list(db.session.scalars(seek(query, AGENT_ORDER, cursor).limit(limit + 1)))
    if len(agents) > limit:
        return agents[:limit], cursor_for(agents[limit - 1], AGENT_ORDER)
    return agents, None


def _matches(q: str) -> ColumnElement[bool]:
    needle = q.lower()
    return or_(
        func.lower(Agent.name).contains(needle, autoescape=True),
        func.lower(Agent.email).contains(needle, autoescape=True),
    )


def get_agent(agent_id: int) -> Agent:
    agent = db.session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"Agent {agent_id} does not exist.")
    return agent


def create_agent(
    actor: Agent | None,
    *,
    email: str,
    name: str,
    role: Role = Role.AGENT,
    password: str | None = None,
    department_ids: Iterable[int] = (),
    skills: Iterable[str] = (),
    languages: Iterable[str] = (),
    capacity: int = 5,
    is_active: bool = True,
    senior: bool = False,
) -> Agent:
    """A new agent; without a password they cannot log in until an admin sets one."""
    email = _normalise_email(email)
    department_ids = list(department_ids)
    _check_email_free(email, except_id=None)
    _check_departments(department_ids, already_member=())
    if password is not None:
        _check_password(password)
    agent = Agent(
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        skills=_unique(skills),
        languages=_unique(languages),
        capacity=capacity,
        senior=senior,
        is_active=is_active,
        presence=Presence.OFFLINE,
    )
    _set_departments(agent, department_ids)
    db.session.add(agent)
    _commit_or_conflict(f"The email {email} is already used by another agent.")
    log.info("agent %s (%s, %s) created by %s", agent.id, email, role.value, f"agent {actor.id}" if actor else "the command line")
    return agent


def update_agent(actor: Agent, agent_id: int, changes: Mapping[str, Any]) -> Agent:
    """PATCH an agent. A new password or a deactivation ends every session the agent has."""
    agent = get_agent(agent_id)
    # Check everything before changing anything: a refused request leaves the session clean.
    email = _normalise_email(changes["email"]) if "email" in changes else agent.email
    if email != agent.email:
        _check_email_free(email, except_id=agent.id)
    _keep_an_admin(agent, new_role=changes.get("role", agent.role), new_active=changes.get("is_active", agent.is_active))
    if "department_ids" in changes:
        _check_departments(changes["department_ids"], already_member=agent.department_ids)
    if "password" in changes:
        _check_password(changes["password"])

    agent.email = email
    for name in ("name", "role", "capacity", "senior"):
        if name in changes:
            setattr(agent, name, changes[name])
    if "skills" in changes:
        agent.skills = _unique(changes["skills"])
    if "languages" in changes:
        agent.languages = _unique(changes["languages"])
    if "department_ids" in changes:
        _set_departments(agent, changes["department_ids"])
    if "password" in changes:
        agent.password_hash = hash_password(changes["password"])
        agent.session_generation += 1
    if "is_active" in changes and changes["is_active"] != agent.is_active:
        agent.is_active = changes["is_active"]
        if not agent.is_active:
            agent.session_generation += 1
            agent.presence = Presence.OFFLINE  # never offered work again
    _commit_or_conflict(f"The email {agent.email} is already used by another agent.")
    # The field names only: the values may include a password.
    log.info("agent %s updated by agent %s: %s", agent.id, actor.id, sorted(changes))
    return agent


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_email_free(email: str, *, except_id: int | None) -> None:
    query = select(Agent.id).where(func.lower(Agent.email) == email)
    if except_id is not None:
        query = query.where(Agent.id != except_id)
    if db.session.scalar(query) is not None:
        raise Conflict(f"The email {email} is already used by another agent.")


def _check_password(password: str) -> None:
    # Checked here too, not only in the schema: the CLI and the seed call operations without one.
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationProblem("The password is too short.", errors={"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]})


def _check_departments(department_ids: Iterable[int], *, already_member: Iterable[int]) -> None:
    """New memberships need existing, active departments; memberships that stay are left alone."""
    kept = set(already_member)
    added = [d for d in dict.fromkeys(department_ids) if d not in kept]
    if not added:
        return
    rows = db.session.execute(select(Department.id, Department.is_active).where(Department.id.in_(added)))
    found = {row.id: row.is_active for row in rows}
    messages = [f"Department {d} does not exist." for d in added if d not in found]
    messages += [f"Department {d} is inactive." for d in added if found.get(d) is False]
    if messages:
        raise ValidationProblem("Some departments cannot take members.", errors={"department_ids": messages})


def _set_departments(agent: Agent, department_ids: Iterable[int]) -> None:
    """Make the memberships exactly these departments, keeping the lead flag of those that stay."""
    current = {m.department_id: m for m in agent.memberships}
    agent.memberships = [current.get(d) or DepartmentMembership(department_id=d) for d in dict.fromkeys(department_ids)]


def _keep_an_admin(agent: Agent, *, new_role: Role, new_active: bool) -> None:
    """Refuse to demote or deactivate the last active admin: nobody could manage the desk then."""
    if agent.role != Role.ADMIN or not agent.is_active or (new_role == Role.ADMIN and new_active):
        return
    others = _count(Agent, Agent.role == Role.ADMIN, Agent.is_active.is_(True), Agent.id != agent.id)
    if not others:
        raise Conflict("This is the last active admin; make someone else an admin first.")


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _count(entity: type[db.Model], *where: ColumnElement[bool]) -> int:
    return db.session.scalar(select(func.count()).select_from(entity).where(*where)) or 0


def _commit_or_conflict(detail: str) -> None:
    """Commit; a unique constraint lost to a concurrent request becomes the same 409 the pre-check gives."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(detail) from None
