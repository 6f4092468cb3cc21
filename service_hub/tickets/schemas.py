"""Request and response shapes of the tickets API; enums travel as their names."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service_hub.customers.models import IdentityKind, Tier
from service_hub.tickets.models import AttachmentStatus, Channel, DeliveryStatus, Direction, Priority, TicketStatus

PRIORITY_NAMES = [p.name.lower() for p in Priority]
TAG = fields.String(
    validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[\w.:\-/]+$", error="Tags are words: letters, digits, _ . : - /")]
)


class PriorityField(fields.Field):
    """`low`, `normal`, `high`, `urgent` on the wire; the IntEnum inside."""

    def _serialize(self, value, attr, obj, **kwargs):  # type: ignore[no-untyped-def]
        return None if value is None else Priority(value).name.lower()

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        if not isinstance(value, str) or value.lower() not in PRIORITY_NAMES:
            raise ValidationError(f"Must be one of: {', '.join(PRIORITY_NAMES)}.")
        return Priority[value.upper()]


class Ref(Schema):
    id = fields.Integer()
    name = fields.String()


class CustomerRef(Ref):
    tier = fields.Enum(Tier, by_value=True)


class TicketListItem(Schema):
    id = fields.Integer()
    number = fields.Integer()
    subject = fields.String()
    status = fields.Enum(TicketStatus, by_value=True)
    priority = PriorityField()
    channel = fields.Enum(Channel, by_value=True)
    tier = fields.Enum(Tier, by_value=True)
    customer = fields.Nested(CustomerRef)
    department = fields.Nested(Ref)
    assignee = fields.Nested(Ref, allow_none=True)
    tags = fields.List(fields.String())
    first_response_due_at = fields.DateTime(allow_none=True)
    resolution_due_at = fields.DateTime(allow_none=True)
    next_due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    last_message_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class TicketPage(Schema):
    items = fields.List(fields.Nested(TicketListItem))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as ?cursor= for the next page; null on the last page."})


class AttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    message_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    # Inbound media that did not arrive is a placeholder (too_large, failed) with its reason in note;
    # note also says when the content was not the declared type. Placeholders have nothing to download.
    status = fields.Enum(AttachmentStatus, by_value=True)
    note = fields.String(allow_none=True)
    download_url = fields.Function(lambda a: f"/api/v1/attachments/{a.id}/content" if a.status == AttachmentStatus.STORED else None)


class MessageSchema(Schema):
    id = fields.Integer()
    direction = fields.Enum(Direction, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    author_agent = fields.Nested(Ref, allow_none=True)
    author_customer_id = fields.Integer(allow_none=True)
    body_text = fields.String()
    body_html = fields.String(allow_none=True)
    delivery_status = fields.Enum(DeliveryStatus, by_value=True)
    delivery_error = fields.String(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema))
    created_at = fields.DateTime()


class TicketDetail(TicketListItem):
    first_responded_at = fields.DateTime(allow_none=True)
    solved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    custom_fields = fields.Dict()
    messages = fields.List(fields.Nested(MessageSchema))


class MessagePage(Schema):
    items = fields.List(fields.Nested(MessageSchema))
    next_cursor = fields.String(allow_none=True)


class InboxQuery(Schema):
    """Filters of the ticket list. Unknown parameters are refused, never passed to SQL."""

    status = fields.List(fields.String(validate=validate.OneOf([*(s.value for s in TicketStatus), "active"])))
    priority = fields.List(PriorityField())
    department_id = fields.Integer()
    assignee = fields.String(validate=validate.Regexp(r"^(me|none|\d{1,18})$", error="Use me, none or an agent id."))
    customer_id = fields.Integer()
    id = fields.List(
        fields.Integer(),
        validate=validate.Length(max=100),
        metadata={"description": "only these tickets, if they match the other filters (a live list re-checks changed rows)"},
    )
    channel = fields.List(fields.Enum(Channel, by_value=True))
    tier = fields.List(fields.Enum(Tier, by_value=True))
    tag = TAG
    q = fields.String(validate=validate.Length(min=1, max=200))
    due_before = fields.AwareDateTime()
    created_after = fields.AwareDateTime()
    created_before = fields.AwareDateTime()
    sort = fields.String(load_default="priority", validate=validate.OneOf(["priority", "due", "created", "-created", "updated"]))
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=500))


class MessageListQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=500))


class MessageIn(Schema):
    body_text = fields.String(validate=validate.Length(max=100_000))
    body_html = fields.String(validate=validate.Length(max=500_000))
    attachment_ids = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def _needs_body(self, data, **kwargs):  # type: ignore[no-untyped-def]
        if not (data.get("body_text") or "").strip() and not (data.get("body_html") or "").strip() and not data.get("attachment_ids"):
            raise ValidationError("A message needs text, HTML or an attachment.", field_name="body_text")


class NewMessage(MessageIn):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["reply", "note"]),
        metadata={"description": "reply goes to the customer; note stays internal"},
    )

    # Collision check (issue 6 item 4, see realtime.presence_collision).
    seen_message_id = fields.Integer(
        metadata={"description": "the newest message your view showed; replies by colleagues after it are reported"}
    )
    if_no_newer_reply = fields.Boolean(
        load_default=False, metadata={"description": "refuse with 409 reply-collision if a colleague replied after seen_message_id"}
    )


class CollisionReply(Schema):
    message_id = fields.Integer()
    agent_id = fields.Integer()
    name = fields.String()
    created_at = fields.String()


class CollisionAgent(Schema):
    agent_id = fields.Integer()
    name = fields.String()


class Collision(Schema):
    newer_replies = fields.List(fields.Nested(CollisionReply), metadata={"description": "colleagues' replies you had not seen"})
    typing = fields.List(fields.Nested(CollisionAgent), metadata={"description": "colleagues typing on this ticket now"})


class PostedMessage(MessageSchema):
    collision = fields.Nested(Collision, allow_none=True, metadata={"description": "null unless a colleague replied or types meanwhile"})


class NewCustomerIdentity(Schema):
    kind = fields.Enum(IdentityKind, by_value=True, required=True)
    value = fields.String(required=True, validate=validate.Length(min=1, max=320))
    account = fields.String(load_default="", validate=validate.Length(max=120))


class NewTicketCustomer(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    identities = fields.List(fields.Nested(NewCustomerIdentity), load_default=list, validate=validate.Length(max=10))


class TicketCreate(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    channel = fields.Enum(Channel, by_value=True, load_default=Channel.WEB)
    department_id = fields.Integer(metadata={"description": "left out: the routing rules choose department, priority and workflow"})
    category = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "for routing; kept in custom_fields"})
    customer_id = fields.Integer()
    customer = fields.Nested(NewTicketCustomer, metadata={"description": "found by identity or created, when customer_id is not given"})
    priority = PriorityField(metadata={"description": "default: the routing rule's, or normal with department_id"})
    assignee_id = fields.Integer(allow_none=True)
    tags = fields.List(TAG, load_default=list, validate=validate.Length(max=20))
    custom_fields = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), load_default=dict)
    message = fields.Nested(MessageIn, metadata={"description": "the customer's first message"})

    @validates_schema
    def _one_customer(self, data, **kwargs):  # type: ignore[no-untyped-def]
        if ("customer_id" in data) == ("customer" in data):
            raise ValidationError("Give exactly one of customer_id or customer.", field_name="customer_id")


class TicketUpdate(Schema):
    """Fields an agent may change. number, channel, customer, tier and timestamps are not among them."""

    version = fields.Integer(required=True, metadata={"description": "the version you read; a mismatch is 409"})
    subject = fields.String(validate=validate.Length(min=1, max=300))
    status = fields.Enum(TicketStatus, by_value=True)
    priority = PriorityField()
    assignee_id = fields.Integer(allow_none=True)
    department_id = fields.Integer()
    tags = fields.List(TAG, validate=validate.Length(max=20))
    custom_fields = fields.Dict(keys=fields.String(validate=validate.Length(max=64)))


class AuditEventSchema(Schema):
    id = fields.Integer()
    action = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_via = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    created_at = fields.DateTime()


class UploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)
