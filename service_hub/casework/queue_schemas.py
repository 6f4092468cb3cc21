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
