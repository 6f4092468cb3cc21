"""Request and response shapes of the canned-responses API. Inputs refuse unknown fields."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

# "/roaming", "/退款": a slash, then letters, digits, "_" or "-".
SHORTCUT = validate.Regexp(r"^/[\w-]{1,40}$", error="A shortcut is '/' followed by up to 40 letters, digits, '_' or '-'.")
LANGUAGES = ("zh-CN", "en")
MAX_LIST = 200


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class CannedListArgs(_Strict):
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "contained in the title, shortcut or body"})
    department_id = fields.Integer(metadata={"description": "only this department's responses"})
    scope = fields.String(
        validate=validate.OneOf(("global", "department")),
        metadata={"description": "global: only responses for everyone; department: only departments' responses"},
    )
    language = fields.String(validate=validate.OneOf(LANGUAGES), metadata={"description": "this language or no language set"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIST))


class CannedCreate(_Strict):
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    shortcut = fields.String(allow_none=True, load_default=None, validate=SHORTCUT)
    department_id = fields.Integer(allow_none=True, load_default=None, metadata={"description": "null: a global response"})
    language = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LANGUAGES))


class CannedUpdate(_Strict):
    version = fields.Integer(required=True, metadata={"description": "the version you read; a mismatch is 409"})
    title = fields.String(validate=validate.Length(min=1, max=120))
    body = fields.String(validate=validate.Length(min=1, max=5000))
    shortcut = fields.String(allow_none=True, validate=SHORTCUT)
    department_id = fields.Integer(allow_none=True)
    language = fields.String(allow_none=True, validate=validate.OneOf(LANGUAGES))


class CannedOut(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    shortcut = fields.String(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    department_name = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()
    can_edit = fields.Boolean(metadata={"description": "whether you may change or delete it"})


class CannedPage(Schema):
    items = fields.List(fields.Nested(CannedOut))


class RenderedOut(Schema):
    id = fields.Integer(metadata={"description": "the canned response"})
    ticket_id = fields.Integer()
    text = fields.String(metadata={"description": "the body with the ticket's variables filled in"})
    # Not a plain `unknown = ...`: that name is marshmallow's own setting on every schema.
    unknown_names = fields.List(
        fields.String(), attribute="unknown", data_key="unknown", metadata={"description": "variables not known, left as written"}
    )
    empty = fields.List(fields.String(), metadata={"description": "known variables without a value for this ticket, filled with ''"})
