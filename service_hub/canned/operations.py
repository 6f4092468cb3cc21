"""Canned-response use cases: list, create, change, delete, and render for a ticket.

Who sees what: a response without a department is global, offered to everyone; a department's
response is offered to agents whose scope holds that department, and to members of the groups
below it (a department's wording serves its groups). Supervisors write their centre's
departments' responses, admins write all, including the global ones; agents only read.

Rendering is plain text substitution of a fixed set of {{variables}}, in one pass: no template
engine ever runs user-authored text, and a value that itself looks like {{…}} stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.exc import IntegrityError

from service_hub.auth.principal import Principal
from service_hub.auth.scope import scope_of
from service_hub.canned.models import CannedResponse
from service_hub.core.errors import Conflict, Forbidden, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.org.models import Agent, Department, Role
from service_hub.org.tree import DepartmentTree
from service_hub.tickets.access import get_visible_ticket
from service_hub.tickets.models import Ticket

EDITABLE_FIELDS = ("title", "body", "shortcut", "department_id", "language")

# {{ name }} with optional spaces inside the braces; the name is dotted words.
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")

VARIABLES: dict[str, Callable[[Ticket, Agent], object]] = {
    "customer.name": lambda ticket, agent: ticket.customer.name,
    "customer.number": lambda ticket, agent: ticket.customer.customer_number,
    "ticket.number": lambda ticket, agent: ticket.number,
    "ticket.subject": lambda ticket, agent: ticket.subject,
    "agent.name": lambda ticket, agent: agent.name,
    "department.name": lambda ticket, agent: ticket.department.name,
}


# --- access ------------------------------------------------------------------------------------


def _readable_clause(agent: Agent) -> ColumnElement[bool]:
    scope = scope_of(agent)
    if scope.all_departments:
        return true()
    departments = set(scope.visible_department_ids) | DepartmentTree.load().with_ancestors(scope.member_department_ids)
    return or_(
        CannedResponse.department_id.is_(None),
        CannedResponse.department_id.in_(departments) if departments else false(),
    )


def may_write(agent: Agent, department_id: int | None) -> bool:
    if agent.role == Role.ADMIN:
        return True
    if agent.role != Role.SUPERVISOR or department_id is None:
        return False
    return department_id in scope_of(agent).visible_department_ids


def _check_write(agent: Agent, department_id: int | None) -> None:
    if may_write(agent, department_id):
        return
    if agent.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("Only supervisors and admins may change canned responses.")
    if department_id is None:
        raise Forbidden("Only admins may change global canned responses.")
    raise Forbidden(f"Department {department_id} is not one of yours; you may not change its canned responses.")


def get_visible(agent: Agent, response_id: int) -> CannedResponse:
    """The response if this agent is offered it; otherwise 404, so ids cannot be probed."""
    query = select(CannedResponse).where(CannedResponse.id == response_id, _readable_clause(agent))
    found = db.session.scalars(query).first()
    if found is None:
        raise NotFound(f"Canned response {response_id} does not exist or is not available to you.")
    return found


# --- read --------------------------------------------------------------------------------------


def view(agent: Agent, row: CannedResponse, department_names: dict[int, str] | None = None) -> dict[str, Any]:
    if department_names is None:
        department_names = _department_names([row.department_id])
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "shortcut": row.shortcut,
        "department_id": row.department_id,
        "department_name": department_names.get(row.department_id) if row.department_id is not None else None,
        "language": row.language,
        "created_by_id": row.created_by_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "version": row.version,
        "can_edit": may_write(agent, row.department_id),
    }


def _department_names(ids: list[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(Department.id, Department.name).where(Department.id.in_(wanted)))
    return {department_id: name for department_id, name in rows}


def list_responses(
    agent: Agent,
    *,
    q: str | None = None,
    department_id: int | None = None,
    scope: str | None = None,
    language: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The responses offered to this agent: shortcut ones first (by shortcut), then by title."""
    query = select(CannedResponse).where(_readable_clause(agent))
    if q is not None and q.strip():
        term = q.strip()
        query = query.where(
            or_(
                CannedResponse.title.icontains(term, autoescape=True),
                CannedResponse.shortcut.icontains(term, autoescape=True),
                CannedResponse.body.icontains(term, autoescape=True),
            )
        )
    if department_id is not None:
        query = query.where(CannedResponse.department_id == department_id)
    if scope == "global":
        query = query.where(CannedResponse.department_id.is_(None))
    elif scope == "department":
        query = query.where(CannedResponse.department_id.is_not(None))
    if language is not None:
        query = query.where(or_(CannedResponse.language.is_(None), CannedResponse.language == language))
    query = query.order_by(CannedResponse.shortcut.is_(None), CannedResponse.shortcut, CannedResponse.title, CannedResponse.id)
    rows = list(db.session.scalars(query.limit(limit)))
    names = _department_names([r.department_id for r in rows])
    return [view(agent, r, names) for r in rows]


# --- write -------------------------------------------------------------------------------------


def _check_department(department_id: int | None) -> None:
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise ValidationProblem(f"Department {department_id} does not exist.", errors={"json": {"department_id": ["No such department."]}})


def _normalised_shortcut(shortcut: str | None) -> str | None:
    return shortcut.lower() if shortcut else None


def _ensure_shortcut_free(shortcut: str | None, department_id: int | None, owner_id: int | None = None) -> None:
    if shortcut is None:
        return
    same_scope = CannedResponse.department_id.is_(None) if department_id is None else CannedResponse.department_id == department_id
    query = select(CannedResponse.id).where(same_scope, CannedResponse.shortcut == shortcut)
    if owner_id is not None:
        query = query.where(CannedResponse.id != owner_id)
    if db.session.scalar(query) is not None:
        where = "among the global responses" if department_id is None else "in this department"
        raise Conflict(f"The shortcut {shortcut} is already used {where}.", errors={"json": {"shortcut": ["Already used."]}})


def _commit(shortcut: str | None) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent writer took the same shortcut between our check and our insert.
        db.session.rollback()
        raise Conflict(
            f"The shortcut {shortcut} is already used in this scope.", errors={"json": {"shortcut": ["Already used."]}}
        ) from None


def create_response(principal: Principal, data: dict[str, Any]) -> CannedResponse:
    agent = principal.agent
    _check_department(data["department_id"])
    _check_write(agent, data["department_id"])
    shortcut = _normalised_shortcut(data.get("shortcut"))
    _ensure_shortcut_free(shortcut, data["department_id"])
    row = CannedResponse(
        title=data["title"].strip() or data["title"],
        body=data["body"],
        shortcut=shortcut,
        department_id=data["department_id"],
        language=data.get("language"),
        created_by_id=agent.id,
    )
    db.session.add(row)
    _commit(shortcut)
    return row


def update_response(principal: Principal, response_id: int, changes: dict[str, Any]) -> CannedResponse:
    agent = principal.agent
    row = get_visible(agent, response_id)
    expected = changes.pop("version")
    _check_write(agent, row.department_id)
    if expected != row.version:
        raise Conflict(
            f"Canned response {row.id} was changed by someone else (version {row.version}, you sent {expected}); reload and try again."
        )
    if "department_id" in changes and changes["department_id"] != row.department_id:
        _check_department(changes["department_id"])
        _check_write(agent, changes["department_id"])
    if "shortcut" in changes:
        changes["shortcut"] = _normalised_shortcut(changes["shortcut"])
    after = {name: changes.get(name, getattr(row, name)) for name in EDITABLE_FIELDS}
    _ensure_shortcut_free(after["shortcut"], after["department_id"], owner_id=row.id)
    for name in EDITABLE_FIELDS:
        if name in changes:
            setattr(row, name, changes[name])
    _commit(after["shortcut"])
    return row


def delete_response(principal: Principal, response_id: int) -> None:
    row = get_visible(principal.agent, response_id)
    _check_write(principal.agent, row.department_id)
    db.session.delete(row)
    db.session.commit()


# --- render ------------------------------------------------------------------------------------


def render_text(body: str, values: dict[str, object]) -> tuple[str, list[str], list[str]]:
    """Fill {{variables}} from values in one pass: the text, the unknown names, the empty ones."""
    unknown: list[str] = []
    empty: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            if name not in unknown:
                unknown.append(name)
            return match.group(0)
        value = values[name]
        if value is None or value == "":
            if name not in empty:
                empty.append(name)
            return ""
        return str(value)

    return _VARIABLE.sub(fill, body), unknown, empty


def render_for_ticket(agent: Agent, ticket_id: int, response_id: int) -> dict[str, Any]:
    ticket = get_visible_ticket(agent, ticket_id)
    row = get_visible(agent, response_id)
    values = {name: get(ticket, agent) for name, get in VARIABLES.items()}
    text, unknown, empty = render_text(row.body, values)
    return {"id": row.id, "ticket_id": ticket.id, "text": text, "unknown": unknown, "empty": empty}
