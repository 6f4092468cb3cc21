"""Request and response shapes of the customers API; enums travel as their values.

Every input schema refuses unknown fields (marshmallow's default RAISE), so a client cannot slip
in a field the API does not own, such as `tier` (set by the value model) or `merged_into_id`.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from service_hub.customers.models import IdentityKind, Tier
from service_hub.tickets.models import Channel, Priority, TicketStatus

MAX_PAGE = 100
DEFAULT_PAGE = 25


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class PriorityName(fields.Field):
    """The IntEnum priority dumped as its lower-case name (`low` ... `urgent`), as in the tickets API."""

    def _serialize(self, value, attr, obj, **kwargs):  # type: ignore[no-untyped-def]
        return None if value is None else Priority(value).name.lower()


# --- input -------------------------------------------------------------------------------------


class CustomerSearchArgs(_Strict):
    q = fields.String(validate=validate.Length(min=1, max=320), metadata={"description": "name (contains), customer number or identity"})
    tier = fields.Enum(Tier, by_value=True)
    include_merged = fields.Boolean(load_default=False, metadata={"description": "also list merged tombstones"})
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = fields.String(validate=validate.Length(max=200), metadata={"description": "next_cursor of the previous page"})


class IdentityIn(_Strict):
    kind = fields.Enum(IdentityKind, by_value=True, required=True)
    value = fields.String(required=True, validate=validate.Length(min=1, max=320))
    account = fields.String(
        load_default="",
        validate=validate.Length(max=120),
        metadata={"description": "channel account (WeChat AppID); empty for phone, email"},
    )
    display_value = fields.String(allow_none=True, validate=validate.Length(max=320))


class CustomerCreate(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    customer_number = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    language = fields.String(allow_none=True, validate=validate.Length(min=1, max=16))
    notes = fields.String(allow_none=True, validate=validate.Length(max=20000))
    identities = fields.List(fields.Nested(IdentityIn), load_default=list, validate=validate.Length(max=20))


class CustomerUpdate(_Strict):
    """The fields a person may change; tier, attributes and merge state are not among them."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    customer_number = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    language = fields.String(allow_none=True, validate=validate.Length(min=1, max=16))
    notes = fields.String(allow_none=True, validate=validate.Length(max=20000))


class MergeIn(_Strict):
    source_id = fields.Integer(required=True, metadata={"description": "the customer merged into this one; it becomes a tombstone"})


# --- output ------------------------------------------------------------------------------------


class IdentityOut(Schema):
    id = fields.Integer()
    kind = fields.Enum(IdentityKind, by_value=True)
    account = fields.String()
    value = fields.String()
    display_value = fields.String(allow_none=True)
    verified = fields.Boolean()
    created_at = fields.DateTime()


class CustomerListItem(Schema):
    id = fields.Integer()
    customer_number = fields.String(allow_none=True)
    name = fields.String()
    language = fields.String(allow_none=True)
    tier = fields.Enum(Tier, by_value=True)
    merged_into_id = fields.Integer(allow_none=True)
    identities = fields.List(fields.Nested(IdentityOut))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CustomerPage(Schema):
    items = fields.List(fields.Nested(CustomerListItem))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as ?cursor= for the next page; null on the last page."})


class TicketHistoryItem(Schema):
    id = fields.Integer()
    number = fields.Integer()
    subject = fields.String()
    status = fields.Enum(TicketStatus, by_value=True)
    priority = PriorityName()
    channel = fields.Enum(Channel, by_value=True)
    created_at = fields.DateTime()


class CustomerDetail(CustomerListItem):
    notes = fields.String(allow_none=True)
    attributes = fields.Dict(keys=fields.String())
    tickets = fields.List(fields.Nested(TicketHistoryItem), metadata={"description": "the tickets you may see, newest first, at most 50"})
