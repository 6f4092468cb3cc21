"""Request and response shapes of channel accounts and dead letters. Credentials are write-only."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from channels import registry

_NAME = validate.Length(min=1, max=120)
_SECRET = validate.Length(min=1, max=500)


class ChannelAccountCreate(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(registry.kinds()))
    name = fields.String(required=True, validate=_NAME)
    default_department_id = fields.Integer(required=True)
    credentials = fields.Dict(keys=fields.String(), values=fields.String(validate=_SECRET), required=True)
    settings = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(max=2000)), load_default=dict)
    is_active = fields.Boolean(load_default=True)


class ChannelAccountUpdate(Schema):
    name = fields.String(validate=_NAME)
    default_department_id = fields.Integer()
    # Only the credentials given are replaced; the others stay as they are.
    credentials = fields.Dict(keys=fields.String(), values=fields.String(validate=_SECRET))
    # Replaces the settings; send them all.
    settings = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(max=2000)))
    is_active = fields.Boolean()


class ChannelAccountSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    slug = fields.String(metadata={"description": "The public key in this account's webhook URLs."})
    webhook_urls = fields.Method("_webhook_urls")
    settings = fields.Dict()
    credentials_set = fields.Method("_credentials_set", metadata={"description": "Which credentials are stored; never their values."})
    default_department_id = fields.Integer()
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _webhook_urls(self, account: Any) -> dict[str, str]:
        family, _, provider = account.kind.partition(".")
        base = f"/hooks/{family}/{provider}/{account.slug}"
        return {"message": base, "status": f"{base}/status"}

    def _credentials_set(self, account: Any) -> list[str]:
        return sorted(getattr(account, "credential_names", []))


class SendTestMessage(Schema):
    to = fields.String(required=True, validate=validate.Length(min=3, max=64))
    text = fields.String(required=True, validate=validate.Length(min=1, max=1600))


class SendTestResult(Schema):
    delivery_id = fields.Integer(attribute="id")
    status = fields.String()
    provider_message_id = fields.String(allow_none=True)
    error = fields.String(attribute="last_error", allow_none=True)
    error_code = fields.String(allow_none=True)


class InboundRecordSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    kind = fields.String()
    provider_message_id = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    received_at = fields.DateTime()
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    processed_at = fields.DateTime(allow_none=True)
    ticket_id = fields.Integer(allow_none=True)
    message_id = fields.Integer(allow_none=True)
    headers = fields.Dict()
    body = fields.Method("_body", metadata={"description": "The raw body as text (undecodable bytes replaced), first 10,000 characters."})

    def _body(self, record: Any) -> str:
        return bytes(record.body).decode("utf-8", errors="replace")[:10_000]


class DeadLetterQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    before_id = fields.Integer(metadata={"description": "Keyset: records with a smaller id (the last id of the previous page)."})
    account_id = fields.Integer()
