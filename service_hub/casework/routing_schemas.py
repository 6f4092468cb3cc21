"""Request and response shapes of the routing-rules API; conditions and outcomes use workflows.routing's schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from service_hub.customers.models import Tier
from service_hub.org.schemas import TrimmedString
from service_hub.tickets.models import Channel
from service_hub.tickets.schemas import PriorityField
from workflows.routing import ConditionsSchema, RuleOutcomeSchema

_NAME = validate.Length(min=1, max=120)  # the routing_rules.name column
_POSITION = validate.Range(min=1, max=1_000_000)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class StoredRuleSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    position = fields.Integer(metadata={"description": "rules are tried in ascending position; the first match wins"})
    enabled = fields.Boolean()
    conditions = fields.Nested(ConditionsSchema, metadata={"description": "all must hold; {} is the default rule"})
    outcome = fields.Nested(RuleOutcomeSchema)
    updated_at = fields.DateTime()


class RoutingRuleCreateSchema(_Strict):
    name = TrimmedString(required=True, validate=_NAME)
    position = fields.Integer(
        strict=True,
        validate=_POSITION,
        metadata={
            "description": "where to insert; rules at this position and after move down one. "
            "Left out: a rule with conditions goes just before the default rule, a rule without them last."
        },
    )
    enabled = fields.Boolean(load_default=True)
    conditions = fields.Nested(ConditionsSchema, allow_none=True, metadata={"description": "left out, null or {}: no conditions"})
    outcome = fields.Nested(RuleOutcomeSchema, required=True)


class RoutingRuleUpdateSchema(_Strict):
    """conditions and outcome are replaced whole, never merged."""

    name = TrimmedString(validate=_NAME)
    position = fields.Integer(strict=True, validate=_POSITION, metadata={"description": "move the rule here; see create"})
    enabled = fields.Boolean()
    conditions = fields.Nested(ConditionsSchema, allow_none=True)
    outcome = fields.Nested(RuleOutcomeSchema)


class ReorderSchema(_Strict):
    ids = fields.List(
        fields.Integer(strict=True),
        required=True,
        validate=validate.Length(min=1, max=10_000),
        metadata={"description": "every rule id exactly once, in the new order"},
    )


class DryRunSchema(_Strict):
    channel = fields.Enum(Channel, by_value=True, required=True)
    account = fields.String(validate=validate.Length(min=1, max=200))
    category = fields.String(validate=validate.Length(min=1, max=64))
    subject = fields.String(load_default="", validate=validate.Length(max=300))
    body = fields.String(load_default="", validate=validate.Length(max=100_000))
    language = fields.String(validate=validate.Length(min=1, max=16))
    customer_id = fields.Integer(metadata={"description": "take tier, language and attributes from this customer"})
    tier = fields.Enum(Tier, by_value=True)
    attributes = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)))
    received_at = fields.AwareDateTime(metadata={"description": "default: now"})
    centre_id = fields.Integer(
        metadata={"description": "resolve department functions in this centre instead of your own (admins have none)"}
    )

    @validates_schema
    def _one_tier_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "customer_id" in data and "tier" in data:
            raise ValidationError("Give customer_id or tier, not both.", field_name="tier")


class _RuleRef(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null for the built-in default"})
    name = fields.String()
    position = fields.Integer(allow_none=True)


class _DepartmentRef(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class _ResolvedOutcome(Schema):
    workflow = fields.String()
    department = fields.Nested(_DepartmentRef)
    department_function = fields.String(allow_none=True)
    centre = fields.Nested(_DepartmentRef, allow_none=True)
    priority = PriorityField()
    tags = fields.List(fields.String())


class _Evaluation(Schema):
    rule = fields.Nested(_RuleRef)
    status = fields.String(metadata={"description": "matched, skipped or disabled"})
    reasons = fields.List(fields.String(), metadata={"description": "the conditions that failed (skipped) or held (matched)"})


class DryRunResultSchema(Schema):
    rule = fields.Nested(_RuleRef)
    builtin_default = fields.Boolean(metadata={"description": "no rules are stored; the built-in default routed"})
    outcome = fields.Nested(_ResolvedOutcome)
    explanation = fields.List(fields.String(), metadata={"description": "one line per rule tried, then priority and department"})
    evaluations = fields.List(fields.Nested(_Evaluation))
