"""/api/v1/workflows: the shipped workflow definitions, read-only, and validating a draft (supervisors, admins).

Definitions ship as YAML in workflows/definitions/ and are loaded once per process; storing new
versions through the API is not offered. The validation endpoint runs the loader the shipped files
pass, so an author sees every problem with its line before proposing a file.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from service_hub.auth.principal import require
from service_hub.core.errors import NotFound, Problem
from service_hub.org.models import Role
from workflows.definition_loader import SHIPPED_DIRECTORY, load_definition, shipped_registry
from workflows.definitions import (
    AnyOf,
    ClockOps,
    DefinitionError,
    Guard,
    Owner,
    Step,
    Transition,
    UnknownDefinition,
    WorkflowDefinition,
)

blp = Blueprint(
    "Workflows",
    __name__,
    url_prefix="/api/v1/workflows",
    description="Shipped workflow definitions (read-only) and validation of drafts",
)

READERS = (Role.SUPERVISOR, Role.ADMIN)
MAX_DRAFT_BYTES = 200 * 1024
# The JSON around a draft escapes newlines and quotes; the body may be somewhat larger than the text.
MAX_BODY_BYTES = 2 * MAX_DRAFT_BYTES

F = TypeVar("F", bound=Callable[..., Any])


# --- shapes ------------------------------------------------------------------------------------


class WorkflowOwnerSchema(Schema):
    functions = fields.List(fields.String(), metadata={"description": "one of these department functions (none: any)"})
    roles = fields.List(fields.String(), metadata={"description": "and one of these roles (none: any)"})


class WorkflowClockOpsSchema(Schema):
    start = fields.List(fields.String())
    pause = fields.List(fields.String())
    resume = fields.List(fields.String())
    stop = fields.List(fields.String())


class WorkflowTasksSchema(Schema):
    lead = fields.String(metadata={"description": "the lead department's function (主办)"})
    co_handlers = fields.List(fields.String(), metadata={"description": "co-handling functions (协办)"})
    clock = fields.String(allow_none=True, metadata={"description": "each task runs its own instance of this clock"})
    required_fields = fields.List(fields.String())


class WorkflowStepSchema(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "task, countersign or final"})
    owner = fields.Nested(WorkflowOwnerSchema, allow_none=True)
    status = fields.String(allow_none=True, metadata={"description": "the ticket status while the case is here"})
    clocks = fields.Nested(WorkflowClockOpsSchema, metadata={"description": "applied on entering the step"})
    sla = fields.String(allow_none=True, metadata={"description": "the clock whose due time is the step's deadline"})
    required_fields = fields.List(fields.String())
    not_required_for = fields.List(fields.String())
    tasks = fields.Nested(WorkflowTasksSchema, allow_none=True, metadata={"description": "countersign steps only"})
    line = fields.Integer()


class WorkflowTransitionSchema(Schema):
    action = fields.String()
    name = fields.String()
    from_ = fields.List(fields.String(), data_key="from")
    to = fields.String(allow_none=True)
    stay = fields.Boolean()
    suspends = fields.Boolean()
    resumes = fields.Boolean()
    inputs = fields.List(fields.String())
    guards = fields.List(
        fields.Dict(),
        metadata={
            "description": 'all must hold: {"source": "field|input|count", "name", "op", "value", "message"} '
            'or {"any": [guards], "message"}'
        },
    )
    by = fields.Nested(WorkflowOwnerSchema, allow_none=True, metadata={"description": "null: the owner of the step it leaves"})
    clocks = fields.Nested(WorkflowClockOpsSchema)
    notify = fields.Dict(allow_none=True, metadata={"description": '{"kind", "target"}'})
    extends = fields.Dict(allow_none=True, metadata={"description": '{"clock", "until" or "by": the input with the new target}'})
    line = fields.Integer()


class WorkflowJoinSchema(Schema):
    step = fields.String(metadata={"description": "the countersign step whose tasks must all close"})
    to = fields.String()
    line = fields.Integer()


class WorkflowClockSchema(Schema):
    name = fields.String()
    target = fields.String(allow_none=True, metadata={"description": "e.g. '13 business days'; null: the SLA policy supplies it"})
    line = fields.Integer()


class WorkflowSummarySchema(Schema):
    key = fields.String()
    version = fields.Integer(metadata={"description": "the latest version"})
    versions = fields.List(fields.Integer(), metadata={"description": "every shipped version, oldest first"})
    name = fields.String()
    description = fields.String()
    applies_to = fields.Dict(metadata={"description": "ticket field -> values; {} applies to any ticket"})
    initial_step = fields.String()
    step_count = fields.Integer()
    source = fields.String(metadata={"description": "the file in workflows/definitions/"})


class WorkflowDetailSchema(WorkflowSummarySchema):
    clocks = fields.List(fields.Nested(WorkflowClockSchema))
    steps = fields.List(fields.Nested(WorkflowStepSchema))
    transitions = fields.List(fields.Nested(WorkflowTransitionSchema))
    joins = fields.List(fields.Nested(WorkflowJoinSchema))
    yaml = fields.String(metadata={"description": "the definition's file as shipped"})


class WorkflowVersionQuerySchema(Schema):
    version = fields.Integer(validate=validate.Range(min=1), metadata={"description": "default: the latest"})


def _draft_size(text: str) -> None:
    if len(text.encode()) > MAX_DRAFT_BYTES:
        raise ValidationError(f"A draft is at most {MAX_DRAFT_BYTES // 1024} KB of UTF-8 text.")


class WorkflowDraftSchema(Schema):
    class Meta:
        unknown = RAISE

    yaml = fields.String(
        required=True,
        validate=_draft_size,
        metadata={"description": f"the definition's YAML text, at most {MAX_DRAFT_BYTES // 1024} KB"},
    )


class WorkflowProblemSchema(Schema):
    line = fields.Integer()
    message = fields.String()


class WorkflowValidationSchema(Schema):
    valid = fields.Boolean()
    key = fields.String(metadata={"description": "when valid"})
    version = fields.Integer(metadata={"description": "when valid"})
    name = fields.String(metadata={"description": "when valid"})
    steps = fields.List(fields.String(), metadata={"description": "when valid: the step ids in file order"})
    problems = fields.List(fields.Nested(WorkflowProblemSchema), metadata={"description": "every problem, by line; [] when valid"})


# --- endpoints ---------------------------------------------------------------------------------


def _body_at_most(limit: int) -> Callable[[F], F]:
    """Refuse (413) a body over `limit` before it is parsed; the app's limit is sized for attachments."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if (request.content_length or 0) > limit:
                raise Problem(
                    f"A draft is sent as JSON of at most {limit // 1024} KB.",
                    status=413,
                    code="content-too-large",
                    title="Content too large",
                )
            request.max_content_length = limit
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


@blp.route("")
class Workflows(MethodView):
    @require("org:read", roles=READERS)
    @blp.response(200, WorkflowSummarySchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """The latest version of every shipped workflow, by key, with all its versions."""
        return [_summary(definition) for definition in shipped_registry().latest()]


@blp.route("/<string:key>")
class WorkflowItem(MethodView):
    @require("org:read", roles=READERS)
    @blp.arguments(WorkflowVersionQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, WorkflowDetailSchema)
    def get(self, args: dict[str, Any], key: str) -> dict[str, Any]:
        """One definition in full (the latest version unless `version` is given) with its YAML."""
        try:
            definition = shipped_registry().get(key, args.get("version"))
        except UnknownDefinition as exc:
            raise NotFound(f"{str(exc).capitalize()}.") from None
        return _detail(definition)


@blp.route("/validate")
class WorkflowValidation(MethodView):
    @require("org:read", roles=READERS)
    @_body_at_most(MAX_BODY_BYTES)
    @blp.arguments(WorkflowDraftSchema)
    @blp.response(200, WorkflowValidationSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check a draft definition as the loader checks shipped files; 200 with the problems by line. Nothing is stored."""
        try:
            definition = load_definition(data["yaml"], "draft")
        except DefinitionError as exc:
            return {"valid": False, "problems": [{"line": p.line, "message": p.message} for p in exc.problems]}
        return {
            "valid": True,
            "key": definition.key,
            "version": definition.version,
            "name": definition.name,
            "steps": list(definition.steps),
            "problems": [],
        }


# --- definitions as data -----------------------------------------------------------------------


def _summary(definition: WorkflowDefinition) -> dict[str, Any]:
    return {
        "key": definition.key,
        "version": definition.version,
        "versions": list(shipped_registry().versions(definition.key)),
        "name": definition.name,
        "description": definition.description,
        "applies_to": {name: list(values) for name, values in definition.applies_to.items()},
        "initial_step": definition.initial_step,
        "step_count": len(definition.steps),
        "source": definition.source,
    }


def _detail(definition: WorkflowDefinition) -> dict[str, Any]:
    return {
        **_summary(definition),
        "clocks": [
            {"name": c.name, "target": str(c.target) if c.target is not None else None, "line": c.line} for c in definition.clocks.values()
        ],
        "steps": [_step(step) for step in definition.steps.values()],
        "transitions": [_transition(t) for t in definition.transitions],
        "joins": [{"step": j.step, "to": j.target, "line": j.line} for j in definition.joins.values()],
        # The registry's source is the file's name; never a path from elsewhere.
        "yaml": (SHIPPED_DIRECTORY / Path(definition.source).name).read_text(encoding="utf-8"),
    }


def _owner(owner: Owner | None) -> dict[str, list[str]] | None:
    return None if owner is None else {"functions": sorted(owner.functions), "roles": sorted(owner.roles)}


def _clock_ops(ops: ClockOps) -> dict[str, list[str]]:
    return {"start": list(ops.start), "pause": list(ops.pause), "resume": list(ops.resume), "stop": list(ops.stop)}


def _step(step: Step) -> dict[str, Any]:
    tasks = step.tasks
    return {
        "id": step.id,
        "name": step.name,
        "kind": step.kind,
        "owner": _owner(step.owner),
        "status": step.status,
        "clocks": _clock_ops(step.clocks),
        "sla": step.sla,
        "required_fields": list(step.required_fields),
        "not_required_for": sorted(step.not_required_for),
        "tasks": None
        if tasks is None
        else {
            "lead": tasks.lead,
            "co_handlers": list(tasks.co_handlers),
            "clock": tasks.clock,
            "required_fields": list(tasks.required_fields),
        },
        "line": step.line,
    }


def _guard(guard: Guard) -> dict[str, Any]:
    if isinstance(guard, AnyOf):
        return {"any": [_guard(option) for option in guard.options], "message": guard.message}
    value = list(guard.value) if isinstance(guard.value, tuple) else guard.value
    return {"source": guard.source, "name": guard.name, "op": guard.op, "value": value, "message": guard.message}


def _transition(t: Transition) -> dict[str, Any]:
    return {
        "action": t.action,
        "name": t.name,
        "from_": list(t.sources),
        "to": t.target,
        "stay": t.stay,
        "suspends": t.suspends,
        "resumes": t.resumes,
        "inputs": list(t.inputs),
        "guards": [_guard(g) for g in t.guards],
        "by": _owner(t.by),
        "clocks": _clock_ops(t.clocks),
        "notify": None if t.notify is None else {"kind": t.notify.kind, "target": t.notify.target},
        "extends": None if t.extends is None else {"clock": t.extends.clock, "until": t.extends.until, "by": t.extends.by},
        "line": t.line,
    }
