"""Request and response shapes of the value API: the model, a customer's explanation, analytics."""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from service_hub.customers.models import Tier
from service_hub.tickets.schemas import PriorityField
from service_hub.value.analytics import MAX_FOLLOW_UPS
from service_hub.value.config import LIFECYCLE_STAGES

_RISK = validate.Range(min=0, max=100)
_LIFECYCLE = validate.OneOf(LIFECYCLE_STAGES)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


# --- the model ---------------------------------------------------------------------------------


class ModelDocumentSchema(Schema):
    """Any JSON object: config.parse() is the one judge of a model document, with messages that
    name the setting at fault (a second copy of its rules here could only drift)."""

    class Meta:
        unknown = INCLUDE


class _Consistency(Schema):
    lambda_max = fields.Float()
    consistency_index = fields.Float()
    consistency_ratio = fields.Float(metadata={"description": "AHP accepts only CR < 0.1"})


class _IndicatorWeight(Schema):
    metric = fields.String()
    better = fields.String(metadata={"description": "higher or lower: which way the indicator scores better"})
    local_weight = fields.Float(metadata={"description": "within its criterion; they add up to 1"})
    global_weight = fields.Float(metadata={"description": "criterion weight x local weight; all of them add up to 1"})


class _CriterionWeight(_Consistency):
    key = fields.String()
    weight = fields.Float()
    indicators = fields.List(fields.Nested(_IndicatorWeight))


class _Weights(Schema):
    criteria_matrix = fields.Nested(_Consistency)
    criteria = fields.List(fields.Nested(_CriterionWeight))


class ModelViewSchema(Schema):
    version = fields.Integer(allow_none=True, metadata={"description": "0 is the built-in default; null in a dry run"})
    active = fields.Boolean(metadata={"description": "this is the model new runs score with"})
    created_at = fields.DateTime(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    document = fields.Dict(metadata={"description": "the whole model, defaults filled in"})
    weights = fields.Nested(_Weights)


class ModelVersionSchema(Schema):
    version = fields.Integer()
    is_active = fields.Boolean()
    active = fields.Boolean(metadata={"description": "the newest active version: the one in use"})
    created_at = fields.DateTime()
    created_by_id = fields.Integer(allow_none=True)


# --- a customer explained ----------------------------------------------------------------------


class _Label(Schema):
    code = fields.String()
    zh = fields.String()
    en = fields.String()


class _Rfm(Schema):
    window_days = fields.Integer()
    recency_days = fields.Integer(allow_none=True)
    frequency = fields.Integer()
    monetary = fields.Float()
    r_score = fields.Integer(allow_none=True)
    f_score = fields.Integer(allow_none=True)
    m_score = fields.Integer(allow_none=True)
    first_purchase_on = fields.Date(allow_none=True)
    last_purchase_on = fields.Date(allow_none=True)
    lifetime_purchases = fields.Integer()


class _Clv(Schema):
    simple = fields.Float()
    contract = fields.Float(allow_none=True)
    avg_arpu = fields.Float(allow_none=True)


class _ChurnReason(Schema):
    code = fields.String()
    label = fields.String()
    detail = fields.String(metadata={"description": "the reason in words and figures"})
    points = fields.Float(metadata={"description": "what the model adds to the churn risk for it"})
    figures = fields.Dict()


class _Churn(Schema):
    risk = fields.Float()
    reasons = fields.List(fields.Nested(_ChurnReason))


class _IndicatorContribution(Schema):
    metric = fields.String()
    value = fields.Float(allow_none=True)
    cap = fields.Float(metadata={"description": "the 99th percentile of the run: value / cap is the score"})
    score = fields.Float(metadata={"description": "0..1"})
    weight = fields.Float(metadata={"description": "global weight"})
    contribution = fields.Float(metadata={"description": "100 x weight x score: points of the index"})


class _CriterionContribution(Schema):
    key = fields.String()
    weight = fields.Float()
    contribution = fields.Float()
    indicators = fields.List(fields.Nested(_IndicatorContribution))


class _IndexBreakdown(Schema):
    index = fields.Float()
    criteria = fields.List(fields.Nested(_CriterionContribution))


class _TierChange(Schema):
    from_tier = fields.String(allow_none=True)
    to_tier = fields.String()
    value_index = fields.Float(allow_none=True)
    rule = fields.String()
    run_id = fields.Integer(allow_none=True)
    changed_at = fields.DateTime()


class CustomerValueSchema(Schema):
    customer_id = fields.Integer()
    name = fields.String()
    merged_into_id = fields.Integer(allow_none=True)
    customer_url = fields.String()
    scored = fields.Boolean(metadata={"description": "false: no run has scored this customer yet (tier normal)"})
    run_id = fields.Integer()
    model_version = fields.Integer(allow_none=True)
    as_of = fields.Date()
    computed_at = fields.DateTime()
    tier = fields.String()
    tier_rule = fields.String(allow_none=True, metadata={"description": "the rule of the model that assigned the tier"})
    rfm = fields.Nested(_Rfm)
    segment8 = fields.Nested(_Label, allow_none=True)
    segment10 = fields.Nested(_Label, allow_none=True)
    clv = fields.Nested(_Clv)
    lifecycle = fields.Nested(_Label, allow_none=True)
    churn = fields.Nested(_Churn)
    value_index = fields.Float()
    index = fields.Nested(_IndexBreakdown, metadata={"description": "the stored index recomputed with its run's caps and model"})
    tier_history = fields.List(fields.Nested(_TierChange), metadata={"description": "the last 20 changes, newest first"})


# --- analytics ---------------------------------------------------------------------------------


class SegmentArgs(_Strict):
    model = fields.Integer(load_default=8, validate=validate.OneOf([8, 10]), metadata={"description": "8 or 10 segments"})


class _Segment(Schema):
    segment = fields.Nested(_Label, allow_none=True, metadata={"description": "null: scored customers without a segment"})
    customers = fields.Integer()
    share_of_customers = fields.Float()
    total_monetary = fields.Float()
    share_of_monetary = fields.Float()
    avg_monetary = fields.Float(allow_none=True)
    avg_clv = fields.Float(allow_none=True)
    avg_churn_risk = fields.Float(allow_none=True)


class SegmentSummarySchema(Schema):
    model = fields.Integer()
    customers = fields.Integer()
    total_monetary = fields.Float()
    segments = fields.List(fields.Nested(_Segment))


class TierArgs(_Strict):
    from_ = fields.Date(data_key="from", metadata={"description": "default: a year before `to`"})
    to = fields.Date(metadata={"description": "default: today"})


class _TierPoint(Schema):
    as_of = fields.Date()
    run_id = fields.Integer()
    customers = fields.Integer()
    tiers = fields.Dict(keys=fields.String(), values=fields.Integer())


class _TierNow(Schema):
    customers = fields.Integer()
    tiers = fields.Dict(keys=fields.String(), values=fields.Integer())


class TierDistributionSchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    series = fields.List(fields.Nested(_TierPoint), metadata={"description": "one point per run date (its last full run)"})
    current = fields.Nested(_TierNow, metadata={"description": "customers.tier now"})


class WorklistArgs(_Strict):
    min_risk = fields.Float(validate=_RISK)
    tier = fields.Enum(Tier, by_value=True)
    lifecycle = fields.String(validate=_LIFECYCLE)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200), metadata={"description": "next_cursor of the previous page"})


class _WorklistItem(Schema):
    customer_id = fields.Integer()
    name = fields.String()
    customer_number = fields.String(allow_none=True)
    tier = fields.String()
    value_index = fields.Float()
    churn_risk = fields.Float()
    churn_reasons = fields.List(fields.String())
    lifecycle = fields.String()
    segment8 = fields.String(allow_none=True)
    recency_days = fields.Integer(allow_none=True)
    last_purchase_on = fields.Date(allow_none=True)
    open_tickets = fields.Integer(metadata={"description": "unfinished tickets you may see"})
    explain_url = fields.String()


class WorklistPageSchema(Schema):
    items = fields.List(fields.Nested(_WorklistItem))
    next_cursor = fields.String(allow_none=True)


class _FollowUpFilter(_Strict):
    min_risk = fields.Float(validate=_RISK)
    tier = fields.Enum(Tier, by_value=True)
    lifecycle = fields.String(validate=_LIFECYCLE)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_FOLLOW_UPS))


class FollowUpSchema(_Strict):
    customer_ids = fields.List(
        fields.Integer(strict=True), validate=validate.Length(min=1, max=MAX_FOLLOW_UPS), metadata={"description": "or `filter`"}
    )
    filter = fields.Nested(_FollowUpFilter, metadata={"description": "the worklist's filters: its riskiest `limit` customers"})
    department_id = fields.Integer(required=True, strict=True)
    subject = fields.String(
        load_default="Retention follow-up: {name}",
        validate=validate.Length(min=1, max=300),
        metadata={"description": "a template: {name}, {customer_number}, {tier}, {churn_risk}, {customer_id}"},
    )
    priority = PriorityField(metadata={"description": "default normal"})

    @validates_schema
    def _one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("customer_ids" in data) == ("filter" in data):
            raise ValidationError("Give exactly one of customer_ids or filter.", field_name="customer_ids")


class _Skipped(Schema):
    customer_id = fields.Integer()
    reason = fields.String(metadata={"description": "open_follow_up, not_found, or why the ticket could not be opened"})


class FollowUpResultSchema(Schema):
    created = fields.List(fields.Integer(), metadata={"description": "ids of the tickets opened"})
    skipped = fields.List(fields.Nested(_Skipped))


class RunSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    as_of = fields.Date()
    model_version = fields.Integer()
    status = fields.String()
    customers = fields.Integer()
    tier_changes = fields.Integer()
    seconds = fields.Float(allow_none=True)
    error = fields.String(allow_none=True)
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class RunRequestSchema(Schema):
    kind = fields.String(load_default="incremental", validate=validate.OneOf(["full", "incremental"]))


class RunQueuedSchema(Schema):
    kind = fields.String()
    task_id = fields.String()
    result = fields.Dict(allow_none=True, metadata={"description": "the finished run when tasks run in process (embedded mode)"})
