"""Request and response shapes for login, the current user and API tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service_hub.auth.principal import SCOPES


class LoginSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))


class CsrfSchema(Schema):
    csrf_token = fields.String()


class MembershipSchema(Schema):
    department_id = fields.Integer()
    department_name = fields.String(attribute="department.name")
    is_lead = fields.Boolean()


class MeSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    presence = fields.String()
    languages = fields.List(fields.String())
    skills = fields.List(fields.String())
    memberships = fields.List(fields.Nested(MembershipSchema))
    authenticated_via = fields.String()
    scopes = fields.List(fields.String())
    csrf_token = fields.String()


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True, validate=validate.Length(min=1))
    expires_in_days = fields.Integer(validate=validate.Range(min=1, max=3650), load_default=None)


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    scopes = fields.List(fields.String())
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(attribute="secret", metadata={"description": "The secret; shown once, only its hash is kept."})
