"""Request and response shapes for departments and agents.

Input schemas list every field a caller may set; anything else (id, password_hash,
session_generation, created_at, presence ...) is an unknown field and answers 422.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from service_hub.auth.passwords import MIN_PASSWORD_LENGTH
from service_hub.org.models import DepartmentKind, Role

MAX_PAGE_SIZE = 200

_CODE = validate.And(
    validate.Length(min=1, max=64),
    validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", error="Use letters, digits, '.', '_' or '-', starting with a letter or digit."),
)
_NAME = validate.Length(min=1, max=200)
_TAG = validate.Length(min=1, max=64)
_CAPACITY = validate.Range(min=0, max=100)


class TrimmedString(fields.String):
    """A string with surrounding whitespace removed before validation, so '  ' is empty."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _tags() -> fields.List:
    """Skills or languages: short strings, at most 50 of them."""
    return fields.List(TrimmedString(validate=_TAG), validate=validate.Length(max=50))


def _functions() -> fields.List:
    """What a department does in workflows (front_line, billing ...): the names definitions use."""
    name = TrimmedString(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="Use lower-case letters, digits and '_'."))
    return fields.List(name, validate=validate.Length(max=20))


def _password() -> fields.String:
    # The upper bound keeps one request from costing seconds of Argon2 time.
    return fields.String(load_only=True, validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=1024))


# Departments


class DepartmentSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.Enum(DepartmentKind, by_value=True)
    parent_id = fields.Integer(allow_none=True)
    functions = fields.List(fields.String())
    is_active = fields.Boolean()
    created_at = fields.DateTime()


class DepartmentQuerySchema(Schema):
    parent_id = fields.Integer(validate=validate.Range(min=1))
    kind = fields.Enum(DepartmentKind, by_value=True)
    is_active = fields.Boolean()


class DepartmentCreateSchema(Schema):
    code = TrimmedString(required=True, validate=_CODE)
    name = TrimmedString(required=True, validate=_NAME)
    kind = fields.Enum(DepartmentKind, by_value=True, required=True)
    parent_id = fields.Integer(allow_none=True, load_default=None)
    functions = _functions()
    is_active = fields.Boolean(load_default=True)


class DepartmentUpdateSchema(Schema):
    """PATCH: only the fields sent change. The kind is fixed at creation (children depend on it)."""

    code = TrimmedString(validate=_CODE)
    name = TrimmedString(validate=_NAME)
    parent_id = fields.Integer(allow_none=True)
    functions = _functions()
    is_active = fields.Boolean()


# Agents


class AgentMembershipSchema(Schema):
    department_id = fields.Integer()
    department_name = fields.String(attribute="department.name")
    is_lead = fields.Boolean()


class AgentSchema(Schema):
    """What any signed-in user may see of a colleague (enough to pick an assignee)."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    presence = fields.String(attribute="presence.value")
    is_active = fields.Boolean()
    capacity = fields.Integer()
    senior = fields.Boolean()
    skills = fields.List(fields.String())
    languages = fields.List(fields.String())
    department_ids = fields.List(fields.Integer())
    memberships = fields.List(fields.Nested(AgentMembershipSchema))
    created_at = fields.DateTime()


class AgentPageSchema(Schema):
    items = fields.List(fields.Nested(AgentSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as ?cursor= for the next page; null on the last page."})


class AgentQuerySchema(Schema):
    department_id = fields.Integer(validate=validate.Range(min=1))
    role = fields.Enum(Role, by_value=True)
    q = TrimmedString(validate=validate.Length(min=1, max=200), metadata={"description": "Part of the name or email."})
    is_active = fields.Boolean()
    cursor = fields.String(validate=validate.Length(max=500))
    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE), load_default=50)


class AgentCreateSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = TrimmedString(required=True, validate=_NAME)
    role = fields.Enum(Role, by_value=True, load_default=Role.AGENT)
    password = _password()
    department_ids = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=100))
    skills = _tags()
    languages = _tags()
    capacity = fields.Integer(validate=_CAPACITY, load_default=5)
    senior = fields.Boolean(load_default=False, metadata={"description": "served diamond and gold customers first"})
    is_active = fields.Boolean(load_default=True)


class AgentUpdateSchema(Schema):
    """PATCH: only the fields sent change; a new password ends the agent's other sessions."""

    email = fields.Email(validate=validate.Length(max=254))
    name = TrimmedString(validate=_NAME)
    role = fields.Enum(Role, by_value=True)
    password = _password()
    department_ids = fields.List(fields.Integer(), validate=validate.Length(max=100))
    skills = _tags()
    languages = _tags()
    capacity = fields.Integer(validate=_CAPACITY)
    senior = fields.Boolean()
    is_active = fields.Boolean()
