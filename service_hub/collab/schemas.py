"""Request and response shapes of the collaboration API: notifications, invitations, the timeline."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service_hub.tickets.schemas import Ref


class NotificationListQuery(Schema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread notifications"})
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=500))


class NotifiedTicket(Schema):
    id = fields.Integer()
    number = fields.Integer()


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "mention (assigned and invited are reserved)"})
    ticket = fields.Nested(NotifiedTicket)
    message_id = fields.Integer(allow_none=True, metadata={"description": "the note that mentioned me"})
    department = fields.Nested(Ref, allow_none=True, metadata={"description": "the mentioned department I was reached through"})
    actor = fields.Nested(Ref, allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationPage(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as ?cursor= for the next (older) page."})


class UnreadCount(Schema):
    unread_count = fields.Integer()


class MarkRead(Schema):
    ids = fields.List(fields.Integer(), validate=validate.Length(min=1, max=500))
    up_to_id = fields.Integer(metadata={"description": "mark every notification of mine with this id or lower"})

    @validates_schema
    def _one_of(self, data, **kwargs):  # type: ignore[no-untyped-def]
        if ("ids" in data) == ("up_to_id" in data):
            raise ValidationError("Send either ids or up_to_id.", field_name="ids")


class MarkReadResult(Schema):
    marked = fields.Integer()
    unread_count = fields.Integer()


class InvitationCreate(Schema):
    department_id = fields.Integer(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class InvitationSchema(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer()
    department_id = fields.Integer()
    invited_by_id = fields.Integer(allow_none=True)
    note = fields.String(attribute="reason", allow_none=True)
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    standing = fields.Function(lambda i: i.revoked_at is None)


class TimelineQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=500), metadata={"description": "the page after this cursor"})
    before = fields.String(validate=validate.Length(max=500), metadata={"description": "the page just before this cursor"})
    latest = fields.Boolean(load_default=False, metadata={"description": "the newest page (a conversation opens at its end)"})

    @validates_schema
    def _one_direction(self, data, **kwargs):  # type: ignore[no-untyped-def]
        if sum(bool(data.get(k)) for k in ("cursor", "before", "latest")) > 1:
            raise ValidationError("Send at most one of cursor, before and latest.", field_name="cursor")


class TimelineItem(Schema):
    """Every item has kind, at and id (the id of its row in its own source); the rest depends on kind."""

    kind = fields.String(metadata={"description": "message, note, workflow_step, invitation or sla"})
    at = fields.DateTime()
    id = fields.Integer()
    direction = fields.String(metadata={"description": "message and note: inbound, outbound, note"})
    channel = fields.String()
    author = fields.Nested(Ref, allow_none=True)
    body_text = fields.String()
    mentions = fields.List(fields.Dict(), metadata={"description": "note: [{kind: agent|department, id, name}]"})
    action = fields.String(metadata={"description": "workflow_step: the workflow action; invitation: created or revoked"})
    from_step = fields.String(allow_none=True)
    to_step = fields.String(allow_none=True)
    actor = fields.Nested(Ref, allow_none=True)
    department = fields.Nested(Ref)
    clock = fields.String(metadata={"description": "sla: first_response, resolution, a workflow clock"})
    event = fields.String(metadata={"description": "sla: started, paused, resumed, extended, stopped, warned, breached, supervised"})
    due_at = fields.DateTime(allow_none=True)


class TimelinePage(Schema):
    items = fields.List(fields.Nested(TimelineItem))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as ?cursor= for the next page; null on the last page."})
    prev_cursor = fields.String(
        allow_none=True, metadata={"description": "with before or latest: pass as ?before= for the earlier page; null at the start"}
    )
    tail_cursor = fields.String(allow_none=True, metadata={"description": "the last item's: pass as ?cursor= for what came after it"})
