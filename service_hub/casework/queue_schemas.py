"""Request and response shapes of the queues API: presence, transfer, queue view and queue settings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service_hub.org.models import Presence
from service_hub.org.schemas import TrimmedString
from workflows.assignment import SeniorPolicy, Strategy


class PresenceUpdate(Schema):
    presence = fields.Enum(Presence, by_value=True, required=True)


class PresenceResult(Schema):
    id = fields.Integer()
    presence = fields.String()
    assigned_ticket_ids = fields.List(fields.Integer(), metadata={"description": "waiting tickets handed to me by going online"})


class TransferRequest(Schema):
    version = fields.Integer(required=True, metadata={"description": "the version you read; a mismatch is 409"})
    reason = TrimmedString(required=True, validate=validate.Length(min=1, max=500))
    assignee_id = fields.Integer(metadata={"description": "an online or away agent of the (target) department"})
    department_id = fields.Integer(metadata={"description": "another department; without assignee_id the ticket joins its queue"})


class QueueQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ScoreParts(Schema):
    priority = fields.Float()
    tier = fields.Float()
    waiting = fields.Float()
    sla_risk = fields.Float()


class QueueCustomer(Schema):
    id = fields.Integer()
    name = fields.String()


class QueueItem(Schema):
    id = fields.Integer()
    number = fields.Integer()
    subject = fields.String()
    status = fields.String()
    priority = fields.String()
    tier = fields.String()
    channel = fields.String()
    customer = fields.Nested(QueueCustomer)
    created_at = fields.DateTime()
    next_due_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    waiting_seconds = fields.Float()
    sla_remaining_seconds = fields.Float(allow_none=True, metadata={"description": "negative once breached; null without a clock"})
    score = fields.Float(metadata={"description": "priority + tier + waiting + sla_risk; higher is served first"})
    score_parts = fields.Nested(ScoreParts)


class QueuePage(Schema):
    department_id = fields.Integer()
    total_waiting = fields.Integer()
    items = fields.List(fields.Nested(QueueItem))


class QueueSettingsSchema(Schema):
    department_id = fields.Integer()
    strategy = fields.Function(lambda c: c.strategy.value, metadata={"description": "least_loaded or round_robin"})
    tier_matching = fields.Function(lambda c: c.tier_matching.policy.value, metadata={"description": "strict, preferred or off"})
    auto_assign = fields.Boolean()
    round_robin_cursor = fields.Integer(attribute="cursor", allow_none=True, metadata={"description": "the agent who got the last ticket"})
    stored = fields.Boolean(metadata={"description": "false: nothing stored yet, these are the defaults"})


class QueueSettingsUpdate(Schema):
    strategy = fields.Enum(Strategy, by_value=True, required=True)
    tier_matching = fields.Enum(SeniorPolicy, by_value=True, required=True)
    auto_assign = fields.Boolean(required=True)


class DepartmentTasksQuery(Schema):
    state = fields.String(
        load_default="open", validate=validate.OneOf(["open", "closed", "all"]), metadata={"description": "of countersign tasks"}
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=200))


class BoardDepartment(Schema):
    id = fields.Integer()
    name = fields.String()


class BoardClock(Schema):
    kind = fields.String()
    status = fields.String()
    started_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)


class BoardAction(Schema):
    action = fields.String()
    name = fields.String()
    required_fields = fields.List(fields.String())
    needs_task = fields.Boolean()


class BoardItem(Schema):
    ticket_id = fields.Integer()
    number = fields.Integer()
    subject = fields.String()
    priority = fields.String()
    version = fields.Integer(metadata={"description": "send it with the case action"})
    department_id = fields.Integer(metadata={"description": "where the case sits now"})
    kind = fields.String(metadata={"description": "case (a step awaiting this department) or countersign (a task)"})
    task_key = fields.String(allow_none=True)
    lead = fields.Boolean(allow_none=True)
    state = fields.String(metadata={"description": "open or suspended for a case; open, done, returned or cancelled for a task"})
    workflow_name = fields.String()
    step = fields.String()
    step_name = fields.String()
    since = fields.DateTime()
    from_department = fields.Nested(BoardDepartment, allow_none=True)
    clock = fields.Nested(BoardClock, allow_none=True, metadata={"description": "the step's or the task's deadline"})
    actions = fields.List(fields.Nested(BoardAction), metadata={"description": "what you may do on this item now"})


class DepartmentTasksPage(Schema):
    department_id = fields.Integer()
    items = fields.List(fields.Nested(BoardItem))
