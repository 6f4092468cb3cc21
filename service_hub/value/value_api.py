"""/api/v1/value: the value model (admins change it), a customer's value explained, the dashboard
analytics and the churn worklist with its bulk follow-up tickets (supervisors and admins)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from service_hub.auth.principal import current_agent, current_principal, require
from service_hub.auth.scope import scope_of
from service_hub.core.extensions import db
from service_hub.org.models import Role
from service_hub.value import analytics, explanation, model_store
from service_hub.value.models import ValueRun
from service_hub.value.tasks import recompute_task
from service_hub.value.value_schemas import (
    CustomerValueSchema,
    FollowUpResultSchema,
    FollowUpSchema,
    ModelDocumentSchema,
    ModelVersionSchema,
    ModelViewSchema,
    RunQueuedSchema,
    RunRequestSchema,
    RunSchema,
    SegmentArgs,
    SegmentSummarySchema,
    TierArgs,
    TierDistributionSchema,
    WorklistArgs,
    WorklistPageSchema,
)

blp = Blueprint("value", __name__, url_prefix="/api/v1/value", description="Customer value: model, scores, analytics")

READERS = (Role.SUPERVISOR, Role.ADMIN)
ADMIN_ONLY = (Role.ADMIN,)


@blp.route("/model")
class ValueModel(MethodView):
    @require("value:read", roles=READERS)
    @blp.response(200, ModelViewSchema)
    def get(self) -> dict[str, Any]:
        """The active model (version 0 is the built-in default), its weights and each matrix's consistency."""
        return model_store.active_model_view()

    @require("value:write", roles=ADMIN_ONLY)
    @blp.arguments(ModelDocumentSchema)
    @blp.response(200, ModelViewSchema)
    def put(self, document: dict[str, Any]) -> dict[str, Any]:
        """Store a new version and make it active. Settings left out take their defaults; a matrix
        with CR >= 0.1 or any other unusable setting is 422, with the message and the field."""
        return model_store.save_model(current_principal(), document)


@blp.route("/model/validate")
class ValueModelValidate(MethodView):
    @require("value:read", roles=READERS)
    @blp.arguments(ModelDocumentSchema)
    @blp.response(200, ModelViewSchema)
    def post(self, document: dict[str, Any]) -> dict[str, Any]:
        """Dry run of PUT /model: the same answer (or the same 422), nothing stored."""
        return model_store.dry_run(document)


@blp.route("/model/versions")
class ValueModelVersions(MethodView):
    @require("value:read", roles=READERS)
    @blp.response(200, ModelVersionSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Stored versions, newest first (the last 200)."""
        return model_store.list_versions()


@blp.route("/model/versions/<int:version>")
class ValueModelVersion(MethodView):
    @require("value:read", roles=READERS)
    @blp.response(200, ModelViewSchema)
    def get(self, version: int) -> dict[str, Any]:
        """One stored version with its weights; 0 is the built-in default."""
        return model_store.version_view(version)


@blp.route("/customers/<int:customer_id>")
class CustomerValue(MethodView):
    @require("value:read")
    @blp.response(200, CustomerValueSchema)
    def get(self, customer_id: int) -> dict[str, Any]:
        """Why the customer has their tier: RFM, segments, CLV, lifecycle, churn reasons, the index
        breakdown and the tier history. Visible exactly when the customer is; never scored is
        scored: false with tier normal."""
        return explanation.explain_customer(current_agent(), customer_id)


@blp.route("/analytics/segments")
class SegmentAnalytics(MethodView):
    @require("value:read", roles=READERS)
    @blp.arguments(SegmentArgs, location="query")
    @blp.response(200, SegmentSummarySchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Per segment of the 8- or 10-segment model: customers, monetary total and average, average
        CLV and churn risk, over the whole customer base."""
        return analytics.segment_summary(args["model"])


@blp.route("/analytics/tiers")
class TierAnalytics(MethodView):
    @require("value:read", roles=READERS)
    @blp.arguments(TierArgs, location="query")
    @blp.response(200, TierDistributionSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Customers per tier at each run date between from and to, and now."""
        return analytics.tier_distribution(args.get("from_"), args.get("to"))


@blp.route("/churn-worklist")
class ChurnWorklist(MethodView):
    @require("value:read", roles=READERS)
    @blp.arguments(WorklistArgs, location="query")
    @blp.response(200, WorklistPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Customers you may see, riskiest first, with reasons and open tickets; keyset paged."""
        items, next_cursor = analytics.churn_worklist(scope_of(current_agent()), **args)
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/churn-worklist/follow-ups")
class ChurnFollowUps(MethodView):
    @require("value:write", roles=READERS)
    @blp.arguments(FollowUpSchema)
    @blp.response(200, FollowUpResultSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Open one outbound (phone) follow-up ticket per customer, tagged retention-follow-up;
        customers with one still open are skipped, so a retry opens nothing twice."""
        return analytics.open_follow_ups(current_principal(), data)


@blp.route("/runs")
class ValueRuns(MethodView):
    @require("value:read", roles=READERS)
    @blp.response(200, RunSchema(many=True))
    def get(self) -> list[ValueRun]:
        """The last 50 computations, newest first: full (nightly) and incremental, with figures and errors."""
        return list(db.session.scalars(select(ValueRun).order_by(ValueRun.id.desc()).limit(50)))

    @require("value:write", roles=READERS)
    @blp.arguments(RunRequestSchema)
    @blp.response(202, RunQueuedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Recompute now (a worker runs it; in process in the embedded default). A run already in
        progress makes this one a no-op; GET /runs shows what ran."""
        task = recompute_task.delay(data["kind"])
        return {"kind": data["kind"], "task_id": task.id, "result": task.result if task.ready() else None}
