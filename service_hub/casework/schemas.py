"""Shapes of the case API: the case with its tasks, clocks and allowed actions; an action request."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ActionOptionSchema(Schema):
    action = fields.String()
    name = fields.String()
    target_step = fields.String()
    required_fields = fields.List(fields.String())
    needs_task = fields.Boolean()
    task_ids = fields.List(fields.String())


class CaseTaskSchema(Schema):
    task_key = fields.String()
    function = fields.String()
    department_id = fields.Integer(allow_none=True)
    lead = fields.Boolean()
    status = fields.String()
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)


class ClockSchema(Schema):
    kind = fields.String()
    status = fields.String()
    target_seconds = fields.Float()
    business_seconds_used = fields.Float()
    started_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    warn_at = fields.DateTime(allow_none=True)
    stopped_at = fields.DateTime(allow_none=True)
    warned_at = fields.DateTime(allow_none=True)
    breached_at = fields.DateTime(allow_none=True)
    supervised_at = fields.DateTime(allow_none=True)
    calendar_key = fields.String()


class CaseSchema(Schema):
    ticket_id = fields.Integer()
    version = fields.Integer(metadata={"description": "the ticket's version: send it with the next action"})
    workflow = fields.String()
    workflow_version = fields.Integer()
    workflow_name = fields.String()
    step = fields.String()
    step_name = fields.String()
    finished = fields.Boolean()
    fields_ = fields.Dict(data_key="fields")
    tasks = fields.List(fields.Nested(CaseTaskSchema))
    clocks = fields.List(fields.Nested(ClockSchema))
    actions = fields.List(fields.Nested(ActionOptionSchema), metadata={"description": "what you may do now"})


class ActionRequest(Schema):
    action = fields.String(required=True, validate=validate.Length(min=1, max=64))
    version = fields.Integer(required=True)
    task_id = fields.String(load_default=None, validate=validate.Length(max=64))
    inputs = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), load_default=dict)
