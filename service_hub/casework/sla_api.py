"""/api/v1/sla: SLA policies and business calendars for the admin screens; supervisors read, admins change.

A change applies to clocks started afterwards: a running clock keeps its target and due time until
its next pause or resume, when the (rebuilt) calendar recomputes the due time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from service_hub.auth.principal import current_principal, require
from service_hub.casework.calendars import ALWAYS_OPEN, build_calendar, calendar_for
from service_hub.casework.models import BusinessCalendarRow, SlaClock, SlaPolicyRow
from service_hub.casework.sla_clocks import matching_policy
from service_hub.core.errors import Conflict, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.customers.models import Tier
from service_hub.org.models import Agent, Role
from service_hub.org.schemas import TrimmedString
from service_hub.tickets.models import Channel, Priority
from workflows.business_time import BusinessCalendar
from workflows.sla import ClockKind, ClockStatus

log = logging.getLogger(__name__)

blp = Blueprint(
    "SLA", __name__, url_prefix="/api/v1/sla", description="SLA policies and business calendars (supervisors read, admins change)"
)

READERS = (Role.SUPERVISOR, Role.ADMIN)
ADMIN_ONLY = (Role.ADMIN,)

CRITERIA = ("tier", "priority", "channel", "category")
TARGETS = ("first_response_seconds", "next_response_seconds", "resolution_seconds")
# What a created policy gets for a field left out (the model's defaults, spelt out for the docs).
POLICY_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(CRITERIA + TARGETS),
    "calendar_key": ALWAYS_OPEN,
    "warning_share": 0.75,
    "supervise_after_seconds": 3600,
    "is_active": True,
}
TIERS = [t.value for t in Tier]
PRIORITIES = [p.name.lower() for p in Priority]
CHANNELS = [c.value for c in Channel]
MAX_SECONDS = 10 * 366 * 86400  # ten years: far beyond any target, well inside the INTEGER columns
NO_DEFAULT = "At least one active policy without tier, priority, channel or category must remain: it is the default for every other ticket."


# --- shapes ------------------------------------------------------------------------------------


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _choice(values: list[str]) -> fields.String:
    return fields.String(allow_none=True, validate=validate.OneOf(values), metadata={"description": "null: any"})


def _target() -> fields.Integer:
    return fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_SECONDS),
        metadata={"description": "business seconds; null: no such clock"},
    )


class SlaPolicySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    position = fields.Integer(metadata={"description": "breaks ties between equally specific policies, lowest first"})
    tier = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    first_response_seconds = fields.Integer(allow_none=True)
    next_response_seconds = fields.Integer(allow_none=True)
    resolution_seconds = fields.Integer(allow_none=True)
    calendar_key = fields.String()
    warning_share = fields.Float()
    supervise_after_seconds = fields.Integer()
    is_active = fields.Boolean()
    is_default = fields.Boolean(metadata={"description": "no criteria: matches every ticket no more specific policy takes"})


class SlaPolicyUpdateSchema(_Strict):
    name = TrimmedString(validate=validate.Length(min=1, max=120))
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000))
    tier = _choice(TIERS)
    priority = _choice(PRIORITIES)
    channel = _choice(CHANNELS)
    category = TrimmedString(allow_none=True, validate=validate.Length(min=1, max=64), metadata={"description": "null: any"})
    first_response_seconds = _target()
    next_response_seconds = _target()
    resolution_seconds = _target()
    calendar_key = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "a business calendar's key"})
    warning_share = fields.Float(
        validate=validate.Range(min=0, max=1, min_inclusive=False), metadata={"description": "warn when this share of a target is used"}
    )
    supervise_after_seconds = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_SECONDS),
        metadata={"description": "formal supervision this long after a breach"},
    )
    is_active = fields.Boolean()


class SlaPolicyCreateSchema(SlaPolicyUpdateSchema):
    """Left out: no criteria, no targets, calendar 24x7, warning_share 0.75, supervision an hour after a breach,
    active, and a position after the others."""

    name = TrimmedString(required=True, validate=validate.Length(min=1, max=120))


class SlaPreviewSchema(_Strict):
    tier = _choice(TIERS)
    priority = _choice(PRIORITIES)
    channel = _choice(CHANNELS)
    category = fields.String(allow_none=True, validate=validate.Length(max=64))
    start = fields.AwareDateTime(allow_none=True, metadata={"description": "give it to get each clock's due time from then"})


class SlaPreviewTargetSchema(Schema):
    clock = fields.String(metadata={"description": "first_response, next_response or resolution"})
    seconds = fields.Integer()
    due_at = fields.DateTime(allow_none=True)


class SlaPreviewResultSchema(Schema):
    policy = fields.Nested(SlaPolicySchema, allow_none=True, metadata={"description": "null: no active policy matches"})
    targets = fields.List(fields.Nested(SlaPreviewTargetSchema), metadata={"description": "the clocks the policy sets"})


def _zone_name(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai'.") from None


_HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Times are HH:MM; an end of 00:00 means midnight.")


class BusinessCalendarSchema(Schema):
    key = fields.String()
    name = fields.String()
    timezone = fields.String()
    hours = fields.Dict(keys=fields.String(), values=fields.List(fields.List(fields.String())))
    china_holidays = fields.Boolean()
    closures = fields.List(fields.List(fields.String()))
    updated_at = fields.DateTime()
    policies = fields.List(fields.String(), metadata={"description": "names of the policies counting by this calendar"})


class BusinessCalendarUpdateSchema(_Strict):
    name = TrimmedString(validate=validate.Length(min=1, max=200))
    timezone = fields.String(validate=_zone_name)
    hours = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-6]$", error="Weekdays are '0' (Monday) to '6' (Sunday).")),
        values=fields.List(fields.List(fields.String(validate=_HHMM), validate=validate.Length(equal=2)), validate=validate.Length(max=24)),
        metadata={"description": 'weekday -> [["09:00", "12:00"], ...]; {} is always open; a weekday left out is closed'},
    )
    china_holidays = fields.Boolean(metadata={"description": "close on China's public holidays, open on its adjusted working days"})
    closures = fields.List(
        fields.Tuple((fields.AwareDateTime(), fields.AwareDateTime())),
        validate=validate.Length(max=1000),
        metadata={"description": "[[start, end], ...] with offsets: closed in between (a typhoon, an outage)"},
    )

    @validates_schema
    def _buildable(self, data: dict[str, Any], **kwargs: Any) -> None:
        for start, end in data.get("closures") or ():
            if end <= start:
                raise ValidationError(
                    f"A closure must end after it starts ({start.isoformat()} - {end.isoformat()}).", field_name="closures"
                )
        if "hours" in data:
            # The zone does not change whether hours are valid; the operation checks the whole calendar again.
            _check_calendar(BusinessCalendarRow(timezone="UTC", hours=data["hours"], china_holidays=False, closures=[]), "hours")


class BusinessCalendarCreateSchema(BusinessCalendarUpdateSchema):
    key = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,63}$", error="Use lower-case letters, digits and '-' (at most 64)."),
    )
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=200))
    timezone = fields.String(required=True, validate=_zone_name)


class DueQuerySchema(Schema):
    start = fields.AwareDateTime(metadata={"description": "default: now"})
    seconds = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_SECONDS), metadata={"description": "business seconds"})


class DueResultSchema(Schema):
    calendar_key = fields.String()
    start = fields.DateTime()
    counting_from = fields.DateTime(metadata={"description": "the first open moment at or after start"})
    seconds = fields.Integer()
    due_at = fields.DateTime()
    business_seconds = fields.Float(metadata={"description": "business time between start and due_at by the calendar"})
    elapsed_seconds = fields.Float(metadata={"description": "wall-clock time between start and due_at"})


# --- endpoints ---------------------------------------------------------------------------------


@blp.route("/policies")
class SlaPolicies(MethodView):
    @require("org:read", roles=READERS)
    @blp.response(200, SlaPolicySchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every policy, active or not, by position."""
        return [_policy_out(row) for row in _policies()]

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(SlaPolicyCreateSchema)
    @blp.response(201, SlaPolicySchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add a policy; the name must be free (409) and the calendar must exist (422)."""
        return _policy_out(create_policy(current_principal().agent, data))


@blp.route("/policies/<int:policy_id>")
class SlaPolicyItem(MethodView):
    @require("org:read", roles=READERS)
    @blp.response(200, SlaPolicySchema)
    def get(self, policy_id: int) -> dict[str, Any]:
        """One policy."""
        return _policy_out(_policy(policy_id))

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(SlaPolicyUpdateSchema)
    @blp.response(200, SlaPolicySchema)
    def patch(self, changes: dict[str, Any], policy_id: int) -> dict[str, Any]:
        """Change a policy; 409 if no active default policy would remain. New clocks use the change."""
        return _policy_out(update_policy(current_principal().agent, policy_id, changes))

    @require("admin", roles=ADMIN_ONLY)
    @blp.response(204)
    def delete(self, policy_id: int) -> None:
        """Delete a policy; 409 if it is the last active default. Its running clocks keep their targets."""
        delete_policy(current_principal().agent, policy_id)


@blp.route("/policies/preview")
class SlaPolicyPreview(MethodView):
    @require("org:read", roles=READERS)
    @blp.arguments(SlaPreviewSchema)
    @blp.response(200, SlaPreviewResultSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Which active policy a ticket like this gets (the same choice as at intake) and its targets."""
        row = matching_policy(*(data.get(name) for name in CRITERIA))
        if row is None:
            return {"policy": None, "targets": []}
        start = data.get("start")
        calendar = calendar_for(row.calendar_key, utcnow()) if start else None
        targets = [
            {"clock": kind.value, "seconds": seconds, "due_at": _due(calendar, start, seconds) if calendar else None}
            for kind, name in zip(ClockKind, TARGETS, strict=True)
            if (seconds := getattr(row, name))
        ]
        return {"policy": _policy_out(row), "targets": targets}


@blp.route("/calendars")
class BusinessCalendars(MethodView):
    @require("org:read", roles=READERS)
    @blp.response(200, BusinessCalendarSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every business calendar, by key."""
        rows = db.session.scalars(select(BusinessCalendarRow).order_by(BusinessCalendarRow.key)).all()
        return [_calendar_out(row) for row in rows]

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(BusinessCalendarCreateSchema)
    @blp.response(201, BusinessCalendarSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add a calendar; the key must be free (409)."""
        return _calendar_out(create_calendar(current_principal().agent, data))


@blp.route("/calendars/<string:key>")
class BusinessCalendarItem(MethodView):
    @require("org:read", roles=READERS)
    @blp.response(200, BusinessCalendarSchema)
    def get(self, key: str) -> dict[str, Any]:
        """One calendar."""
        return _calendar_out(_calendar(key))

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(BusinessCalendarUpdateSchema)
    @blp.response(200, BusinessCalendarSchema)
    def patch(self, changes: dict[str, Any], key: str) -> dict[str, Any]:
        """Change a calendar (not its key); every process rebuilds it for the clocks that start or resume next."""
        return _calendar_out(update_calendar(current_principal().agent, key, changes))

    @require("admin", roles=ADMIN_ONLY)
    @blp.response(204)
    def delete(self, key: str) -> None:
        """Delete a calendar; 409 while a policy or a running or paused clock counts by it."""
        delete_calendar(current_principal().agent, key)


@blp.route("/calendars/<string:key>/due")
class BusinessCalendarDue(MethodView):
    @require("org:read", roles=READERS)
    @blp.arguments(DueQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, DueResultSchema)
    def get(self, args: dict[str, Any], key: str) -> dict[str, Any]:
        """When `seconds` of business time from `start` fall due by this calendar."""
        _calendar(key)
        calendar = calendar_for(key, utcnow())
        start, seconds = args.get("start") or utcnow(), args["seconds"]
        due_at = _due(calendar, start, seconds)
        if due_at is None:
            raise ValidationProblem(f"Calendar '{key}' is not open long enough to count {seconds} seconds.")
        return {
            "calendar_key": key,
            "start": start.astimezone(UTC),
            "counting_from": calendar.next_open(start),
            "seconds": seconds,
            "due_at": due_at,
            "business_seconds": calendar.between(start, due_at),
            "elapsed_seconds": (due_at - start).total_seconds(),
        }


def _due(calendar: BusinessCalendar, start: datetime, seconds: float) -> datetime | None:
    """None when the calendar has not that much working time within its search horizon."""
    try:
        return calendar.add(start, seconds)
    except ValueError:
        return None


# --- policies ----------------------------------------------------------------------------------


def _policies(*, lock: bool = False) -> list[SlaPolicyRow]:
    query = select(SlaPolicyRow).order_by(SlaPolicyRow.position, SlaPolicyRow.id)
    # FOR UPDATE (PostgreSQL): two admins cannot each remove "the other" default at once.
    return list(db.session.scalars(query.with_for_update() if lock else query))


def _policy(policy_id: int) -> SlaPolicyRow:
    row = db.session.get(SlaPolicyRow, policy_id)
    if row is None:
        raise NotFound(f"SLA policy {policy_id} does not exist.")
    return row


def _policy_out(row: SlaPolicyRow) -> dict[str, Any]:
    names = ("id", "name", "position", *CRITERIA, *TARGETS, "calendar_key", "warning_share", "supervise_after_seconds", "is_active")
    return {**{name: getattr(row, name) for name in names}, "is_default": _is_default(_matching(row))}


def _matching(row: SlaPolicyRow) -> dict[str, Any]:
    """What decides whether a policy can be the default: its criteria and whether it is active."""
    return {name: getattr(row, name) for name in (*CRITERIA, "is_active")}


def _is_default(values: dict[str, Any]) -> bool:
    return all(values.get(name) is None for name in CRITERIA)


def create_policy(actor: Agent, data: dict[str, Any]) -> SlaPolicyRow:
    data = {**POLICY_DEFAULTS, **data}
    _check_policy_refs(data, None)
    if "position" not in data:
        data["position"] = (db.session.scalar(select(func.max(SlaPolicyRow.position))) or 0) + 1
    row = SlaPolicyRow(**data)
    db.session.add(row)
    _commit_or_conflict(f"The name '{row.name}' is already used by another SLA policy.")
    log.info("SLA policy %s (%r) created by agent %s", row.id, row.name, actor.id)
    return row


def update_policy(actor: Agent, policy_id: int, changes: dict[str, Any]) -> SlaPolicyRow:
    rows = _policies(lock=True)
    row = next((r for r in rows if r.id == policy_id), None)
    if row is None:
        raise NotFound(f"SLA policy {policy_id} does not exist.")
    # Check everything before changing anything: a refused request leaves the session clean.
    _check_policy_refs(changes, row)
    after = {**_matching(row), **{name: changes[name] for name in (*CRITERIA, "is_active") if name in changes}}
    _keep_a_default([after, *(_matching(r) for r in rows if r is not row)])
    for name, value in changes.items():
        setattr(row, name, value)
    _commit_or_conflict(f"The name '{row.name}' is already used by another SLA policy.")
    log.info("SLA policy %s updated by agent %s: %s", row.id, actor.id, sorted(changes))
    return row


def delete_policy(actor: Agent, policy_id: int) -> None:
    rows = _policies(lock=True)
    row = next((r for r in rows if r.id == policy_id), None)
    if row is None:
        raise NotFound(f"SLA policy {policy_id} does not exist.")
    _keep_a_default([_matching(r) for r in rows if r is not row])
    db.session.delete(row)  # its clocks keep running with policy_id NULL (ON DELETE SET NULL)
    db.session.commit()
    log.info("SLA policy %s (%r) deleted by agent %s", policy_id, row.name, actor.id)


def _check_policy_refs(values: dict[str, Any], row: SlaPolicyRow | None) -> None:
    name = values.get("name")
    if name is not None and (row is None or name != row.name):
        taken = db.session.scalar(select(SlaPolicyRow.id).where(SlaPolicyRow.name == name))
        if taken is not None:
            raise Conflict(f"The name '{name}' is already used by another SLA policy.")
    key = values.get("calendar_key")
    # FOR SHARE: a calendar being deleted at the same time waits, then sees this policy.
    calendar = select(BusinessCalendarRow.id).where(BusinessCalendarRow.key == key).with_for_update(read=True)
    if key is not None and db.session.scalar(calendar) is None:
        known = ", ".join(db.session.scalars(select(BusinessCalendarRow.key).order_by(BusinessCalendarRow.key)))
        raise ValidationProblem(
            f"There is no business calendar '{key}'.", errors={"json": {"calendar_key": [f"Unknown calendar {key!r}; known: {known}."]}}
        )


def _keep_a_default(proposed: list[dict[str, Any]]) -> None:
    if not any(values.get("is_active") and _is_default(values) for values in proposed):
        raise Conflict(NO_DEFAULT)


def _commit_or_conflict(detail: str) -> None:
    """Commit; a unique name lost to a concurrent request becomes the same 409 the pre-check gives."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(detail) from None


# --- calendars ---------------------------------------------------------------------------------


def _calendar(key: str, *, lock: bool = False) -> BusinessCalendarRow:
    query = select(BusinessCalendarRow).where(BusinessCalendarRow.key == key)
    row = db.session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"Business calendar '{key}' does not exist.")
    return row


def _calendar_out(row: BusinessCalendarRow) -> dict[str, Any]:
    policies = db.session.scalars(select(SlaPolicyRow.name).where(SlaPolicyRow.calendar_key == row.key).order_by(SlaPolicyRow.position))
    return {
        "key": row.key,
        "name": row.name,
        "timezone": row.timezone,
        "hours": row.hours,
        "china_holidays": row.china_holidays,
        "closures": row.closures,
        "updated_at": row.updated_at,
        "policies": list(policies),
    }


def _stored(changes: dict[str, Any]) -> dict[str, Any]:
    """The request's values as the row keeps them: hours by weekday, closures as ISO text by start."""
    stored = dict(changes)
    if "hours" in stored:
        stored["hours"] = {day: sorted(spans) for day, spans in sorted(stored["hours"].items())}
    if "closures" in stored:
        stored["closures"] = [[a.isoformat(), b.isoformat()] for a, b in sorted(stored["closures"])]
    return stored


def _check_calendar(row: BusinessCalendarRow, field: str) -> None:
    """Build the calendar as calendar_for would; its ValueError (overlapping hours ...) is a 422."""
    if row.hours and not any(row.hours.values()):
        # add() would search fifty years for an opening before giving up.
        raise ValidationError("The hours open on no weekday; {} is a calendar that is always open.", field_name=field)
    try:
        build_calendar(row, range(utcnow().year, utcnow().year + 1))
    except ValueError as exc:
        raise ValidationError(str(exc), field_name=field) from None


def _check_whole(timezone: str, hours: dict[str, list[list[str]]], closures: list[list[str]]) -> None:
    """The whole calendar after a change (China's holidays are known data and cannot make it invalid)."""
    try:
        _check_calendar(BusinessCalendarRow(timezone=timezone, hours=hours, china_holidays=False, closures=closures), "hours")
    except ValidationError as exc:
        raise ValidationProblem("The calendar would not be valid.", errors={"json": exc.normalized_messages()}) from None


def create_calendar(actor: Agent, data: dict[str, Any]) -> BusinessCalendarRow:
    if db.session.scalar(select(BusinessCalendarRow.id).where(BusinessCalendarRow.key == data["key"])) is not None:
        raise Conflict(f"The key '{data['key']}' is already used by another calendar.")
    row = BusinessCalendarRow(**{"hours": {}, "china_holidays": False, "closures": [], **_stored(data)})
    _check_whole(row.timezone, row.hours, row.closures)
    db.session.add(row)
    _commit_or_conflict(f"The key '{row.key}' is already used by another calendar.")
    log.info("business calendar %r created by agent %s", row.key, actor.id)
    return row


def update_calendar(actor: Agent, key: str, changes: dict[str, Any]) -> BusinessCalendarRow:
    row = _calendar(key)
    stored = _stored(changes)
    _check_whole(stored.get("timezone", row.timezone), stored.get("hours", row.hours), stored.get("closures", row.closures))
    for name, value in stored.items():
        setattr(row, name, value)
    if changes:
        # calendar_for rebuilds a cached calendar when updated_at differs; make sure it does.
        row.updated_at = max(utcnow(), row.updated_at + timedelta(microseconds=1))
    db.session.commit()
    log.info("business calendar %r updated by agent %s: %s", key, actor.id, sorted(changes))
    return row


def delete_calendar(actor: Agent, key: str) -> None:
    row = _calendar(key, lock=True)
    policies = list(db.session.scalars(select(SlaPolicyRow.name).where(SlaPolicyRow.calendar_key == key).order_by(SlaPolicyRow.position)))
    if policies:
        raise Conflict(f"Calendar '{key}' is used by the SLA policies {', '.join(policies)}; move them to another calendar first.")
    clocks = db.session.scalar(
        select(func.count())
        .select_from(SlaClock)
        .where(SlaClock.calendar_key == key, SlaClock.status.in_([ClockStatus.RUNNING.value, ClockStatus.PAUSED.value]))
    )
    if clocks:
        raise Conflict(f"Calendar '{key}' still counts {clocks} running or paused clock(s); delete it once they have stopped.")
    db.session.delete(row)
    db.session.commit()
    log.info("business calendar %r deleted by agent %s", key, actor.id)
