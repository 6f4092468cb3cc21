"""Routing: ordered rules map a new ticket to a workflow, a department and a base priority.

Rules are tried by ascending ``position``; the first enabled rule whose conditions all hold wins.
A rule set is valid only when its last enabled rule has no conditions (the default rule), so every
ticket is routed. ``route`` explains itself: one line per rule tried, saying which conditions
failed, and for the winner, which conditions held; an admin's dry run shows exactly that.

Matching:

* channel, category, language and tier compare case-insensitively; account compares exactly
  (channel account ids such as a WeChat AppID are case-sensitive);
* a rule language is a range: ``zh`` matches ``zh``, ``zh-CN`` and ``zh-Hans-CN``, not ``zho``;
* keywords are substrings of subject + body after NFKC folding and ``casefold`` (full-width
  letters and digits become ASCII) with runs of white space as one space. Substrings, not words, because
  Chinese has no spaces: ``宽带`` is found in ``宽带断网``. Simplified and traditional characters are
  not equated;
* attributes compare JSON values exactly (``true`` is not ``1``); a missing attribute fails;
* a time window holds on its weekdays from ``start`` (inclusive) to ``end`` (exclusive), local
  time in its own time zone; when ``end <= start`` it runs past midnight into the next day, and
  the weekday is the day it starts (``fri 22:00-06:00`` covers Saturday 03:00); ``start == end``
  is a full 24 hours. Several windows: any one suffices.

Rules travel as JSON; ``RoutingRuleSchema`` (marshmallow) loads and dumps them, its errors keyed by
field (``{"outcome": {"department": [...]}}``), and ``rules_from_dicts`` also checks the set.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import RAISE, Schema, ValidationError, fields, post_dump, post_load, validate, validates_schema

from workflows.queue_order import Priority, Tier

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_WEEKDAYS = frozenset(range(7))
FROM_TIER: Literal["from_tier"] = "from_tier"

Scalar = str | int | float | bool | None

# The base priority a "from_tier" rule gives; an unknown customer counts as normal.
DEFAULT_TIER_PRIORITY: Mapping[Tier, Priority] = MappingProxyType(
    {
        Tier.DIAMOND: Priority.HIGH,
        Tier.GOLD: Priority.HIGH,
        Tier.SILVER: Priority.NORMAL,
        Tier.VIP: Priority.NORMAL,
        Tier.NORMAL: Priority.NORMAL,
    }
)


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TimeWindow:
    timezone: str
    start: time
    end: time
    weekdays: frozenset[int] = ALL_WEEKDAYS  # 0 = Monday

    def __post_init__(self) -> None:
        _zone(self.timezone)
        if not self.weekdays or not self.weekdays <= ALL_WEEKDAYS:
            raise ValueError("weekdays must be a non-empty subset of 0 (Monday) .. 6 (Sunday)")

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(_zone(self.timezone))
        clock, today, yesterday = local.time().replace(tzinfo=None), local.weekday(), (local.weekday() - 1) % 7
        if self.start < self.end:
            return today in self.weekdays and self.start <= clock < self.end
        # Past midnight (or a full day when start == end): the tail belongs to the day before.
        return (today in self.weekdays and clock >= self.start) or (yesterday in self.weekdays and clock < self.end)

    def describe(self) -> str:
        days = "every day" if self.weekdays == ALL_WEEKDAYS else ",".join(WEEKDAYS[d] for d in sorted(self.weekdays))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"


@dataclass(frozen=True)
class AttributeCondition:
    key: str
    op: Literal["eq", "in"]
    values: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        if not self.key or not self.values or (self.op == "eq" and len(self.values) != 1):
            raise ValueError(f"attribute condition {self.key!r}: needs a key and one value (eq) or several (in)")


@dataclass(frozen=True, kw_only=True)
class Conditions:
    """All given conditions must hold; ``None`` means "any". Empty lists are refused as ambiguous."""

    channels: tuple[str, ...] | None = None
    accounts: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    keywords_any: tuple[str, ...] | None = None
    keywords_all: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    tiers: tuple[Tier, ...] | None = None
    attributes: tuple[AttributeCondition, ...] | None = None
    time_windows: tuple[TimeWindow, ...] | None = None

    def __post_init__(self) -> None:
        for name in _CONDITION_NAMES:
            value = getattr(self, name)
            if value is not None and not value:
                raise ValueError(f"conditions.{name} must not be empty; leave it out to match anything")
        for keyword in (self.keywords_any or ()) + (self.keywords_all or ()):
            if not _fold(keyword):
                raise ValueError(f"keyword {keyword!r} is blank")

    @property
    def is_unconditional(self) -> bool:
        return all(getattr(self, name) is None for name in _CONDITION_NAMES)


_CONDITION_NAMES = (
    "channels",
    "accounts",
    "categories",
    "languages",
    "tiers",
    "attributes",
    "keywords_any",
    "keywords_all",
    "time_windows",
)


@dataclass(frozen=True, kw_only=True)
class RuleOutcome:
    """Where a matched ticket goes. ``department`` is the caller's reference (a code or an id);
    ``department_function`` names a role the caller resolves per centre. Exactly one is set."""

    workflow: str
    department: str | int | None = None
    department_function: str | None = None
    priority: Priority | Literal["from_tier"] = FROM_TIER
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.workflow:
            raise ValueError("outcome.workflow is required")
        if (self.department is None) == (self.department_function is None):
            raise ValueError("outcome needs exactly one of department and department_function")


@dataclass(frozen=True, kw_only=True)
class RoutingRule:
    id: int | str | None = None
    name: str
    position: int
    outcome: RuleOutcome
    conditions: Conditions = field(default_factory=Conditions)
    enabled: bool = True

    @property
    def label(self) -> str:
        return f"rule {self.name!r}"


class RuleSetError(ValueError):
    """The rule set as a whole is unusable; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def validate_rules(rules: Iterable[RoutingRule]) -> list[RoutingRule]:
    """The rules in evaluation order; raises ``RuleSetError`` unless positions and ids are unique
    and the enabled rules end with exactly one default rule (no conditions)."""
    ordered = sorted(rules, key=lambda rule: rule.position)
    problems: list[str] = []
    for attr in ("position", "id"):
        seen: dict[object, list[str]] = {}
        for rule in ordered:
            if getattr(rule, attr) is not None:
                seen.setdefault(getattr(rule, attr), []).append(rule.name)
        problems += [
            f"{attr} {key!r} is used by more than one rule ({', '.join(map(repr, names))})" for key, names in seen.items() if len(names) > 1
        ]
    enabled = [rule for rule in ordered if rule.enabled]
    if not enabled:
        problems.append("no enabled rule: a default rule without conditions must be enabled and last")
    elif not enabled[-1].conditions.is_unconditional:
        last = enabled[-1]
        problems.append(
            f"the last enabled rule {last.name!r} (position {last.position}) has conditions; the last enabled rule must be a default rule without conditions"
        )
    for index, rule in enumerate(enabled[:-1]):
        if rule.conditions.is_unconditional:
            shadowed = ", ".join(repr(r.name) for r in enabled[index + 1 :])
            problems.append(
                f"rule {rule.name!r} (position {rule.position}) has no conditions, so the enabled rules after it ({shadowed}) can never match"
            )
            break
    if problems:
        raise RuleSetError(problems)
    return ordered


# --- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RoutingInput:
    channel: str
    received_at: datetime
    account: str | None = None
    category: str | None = None
    subject: str = ""
    body: str = ""
    language: str | None = None
    tier: Tier | None = None
    attributes: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")


@dataclass(frozen=True)
class RuleEvaluation:
    rule: RoutingRule
    status: Literal["matched", "skipped", "disabled"]
    reasons: tuple[str, ...]  # failed conditions when skipped, satisfied ones when matched

    @property
    def text(self) -> str:
        if self.status == "disabled":
            return f"{self.rule.label} skipped: disabled"
        return f"{self.rule.label} {self.status}: {'; '.join(self.reasons)}"


@dataclass(frozen=True)
class RoutingDecision:
    rule: RoutingRule
    outcome: RuleOutcome
    priority: Priority  # resolved: "from_tier" already applied
    priority_reason: str
    evaluations: tuple[RuleEvaluation, ...]

    @property
    def explanation(self) -> list[str]:
        return [evaluation.text for evaluation in self.evaluations] + [self.priority_reason]

    @property
    def matched_conditions(self) -> tuple[str, ...]:
        return self.evaluations[-1].reasons


def route(
    rules: Iterable[RoutingRule],
    item: RoutingInput,
    tier_priority: Mapping[Tier, Priority] = DEFAULT_TIER_PRIORITY,
) -> RoutingDecision:
    """The first enabled rule (by position) whose conditions all hold, with the reasons."""
    text = _fold(f"{item.subject}\n{item.body}")
    evaluations: list[RuleEvaluation] = []
    for rule in validate_rules(rules):
        evaluation = evaluate_rule(rule, item, folded_text=text)
        evaluations.append(evaluation)
        if evaluation.status == "matched":
            priority, why = _resolve_priority(rule.outcome, item.tier, tier_priority)
            return RoutingDecision(rule, rule.outcome, priority, why, tuple(evaluations))
    raise AssertionError("validate_rules guarantees a default rule")  # pragma: no cover


def evaluate_rule(rule: RoutingRule, item: RoutingInput, *, folded_text: str | None = None) -> RuleEvaluation:
    """One rule against one ticket: matched (with the conditions that held) or skipped (with those that failed)."""
    if not rule.enabled:
        return RuleEvaluation(rule, "disabled", ())
    if rule.conditions.is_unconditional:
        return RuleEvaluation(rule, "matched", ("no conditions (default rule)",))
    text = folded_text if folded_text is not None else _fold(f"{item.subject}\n{item.body}")
    held: list[str] = []
    failed: list[str] = []
    for ok, reason in _checks(rule.conditions, item, text):
        (held if ok else failed).append(reason)
    if failed:
        return RuleEvaluation(rule, "skipped", tuple(failed))
    return RuleEvaluation(rule, "matched", tuple(held))


def _checks(c: Conditions, item: RoutingInput, text: str) -> Iterable[tuple[bool, str]]:
    if c.channels is not None:
        yield _member("channel", item.channel, c.channels, _casefold_in)
    if c.accounts is not None:
        yield _member("account", item.account, c.accounts, lambda value, allowed: value in allowed)
    if c.categories is not None:
        yield _member("category", item.category, c.categories, _casefold_in)
    if c.languages is not None:
        yield _member("language", item.language, c.languages, _language_in)
    if c.tiers is not None:
        tiers = [t.value for t in c.tiers]
        yield _member("tier", item.tier.value if item.tier else None, tiers, _casefold_in)
    for condition in c.attributes or ():
        yield _attribute(condition, item.attributes)
    if c.keywords_any is not None:
        found = [k for k in c.keywords_any if _fold(k) in text]
        yield (True, f"keyword {found[0]!r} found") if found else (False, f"none of keywords {_list(c.keywords_any)} found")
    if c.keywords_all is not None:
        missing = [k for k in c.keywords_all if _fold(k) not in text]
        yield (False, f"keywords {_list(missing)} not found") if missing else (True, f"all keywords {_list(c.keywords_all)} found")
    if c.time_windows is not None:
        yield _time(c.time_windows, item.received_at)


def _member(name: str, value: str | None, allowed: Sequence[str], test: Callable[[str, Sequence[str]], bool]) -> tuple[bool, str]:
    shown = value if value else "(none)"
    if value and test(value, allowed):
        return True, f"{name} {shown} in {_list(allowed)}"
    return False, f"{name} {shown} not in {_list(allowed)}"


def _casefold_in(value: str, allowed: Sequence[str]) -> bool:
    return value.casefold() in {a.casefold() for a in allowed}


def _language_in(value: str, ranges: Sequence[str]) -> bool:
    tag = _subtags(value)
    return any((r := _subtags(lang)) and tag[: len(r)] == r for lang in ranges)


def _attribute(condition: AttributeCondition, attributes: Mapping[str, object]) -> tuple[bool, str]:
    key = condition.key
    expected = repr(condition.values[0]) if condition.op == "eq" else f"[{', '.join(map(repr, condition.values))}]"
    verb = "=" if condition.op == "eq" else "in"
    if key not in attributes:
        return False, f"attribute {key} missing (wanted {verb} {expected})"
    actual = attributes[key]
    if any(_json_equal(actual, value) for value in condition.values):
        return True, f"attribute {key} {actual!r} {verb} {expected}"
    return False, f"attribute {key} is {actual!r}, not {verb} {expected}"


def _json_equal(actual: object, expected: Scalar) -> bool:
    # JSON semantics: booleans are not numbers; 2 and 2.0 are the same number.
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    return type(actual) is type(expected) and actual == expected


def _time(windows: Sequence[TimeWindow], moment: datetime) -> tuple[bool, str]:
    for window in windows:
        if window.contains(moment):
            return True, f"received {_local(moment, window.timezone)} within {window.describe()}"
    zones = dict.fromkeys(w.timezone for w in windows)
    when = ", ".join(_local(moment, zone) for zone in zones)
    return False, f"received {when} outside {_list([w.describe() for w in windows])}"


def _local(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(_zone(zone)):%a %H:%M} {zone}"


def _resolve_priority(outcome: RuleOutcome, tier: Tier | None, tier_priority: Mapping[Tier, Priority]) -> tuple[Priority, str]:
    if outcome.priority != FROM_TIER:
        priority = Priority(outcome.priority)
        return priority, f"priority {priority.label} set by the rule"
    priority = tier_priority.get(tier, Priority.NORMAL) if tier is not None else Priority.NORMAL
    return priority, f"priority {priority.label} from tier {tier.value if tier else '(unknown)'}"


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _subtags(tag: str) -> list[str]:
    return [part for part in tag.strip().replace("_", "-").casefold().split("-") if part]


def _list(values: Iterable[object]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


# --- JSON --------------------------------------------------------------------------------------


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _ClockTime(fields.Field[time]):
    default_error_messages = {"invalid": "Not a time of day; expected HH:MM (00:00 to 23:59)."}

    def _serialize(self, value: time | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.isoformat(timespec="seconds" if value.second else "minutes")

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> time:
        if not isinstance(value, str) or not re.fullmatch(r"\d\d:\d\d(:\d\d)?", value):
            raise self.make_error("invalid")
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None


class _Weekdays(fields.Field[frozenset[int]]):
    default_error_messages = {"invalid": f"Expected a non-empty list of weekdays from {', '.join(WEEKDAYS)}."}

    def _serialize(self, value: frozenset[int] | None, attr: str | None, obj: Any, **kwargs: Any) -> list[str] | None:
        return None if value is None else [WEEKDAYS[d] for d in sorted(value)]

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> frozenset[int]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.lower() in WEEKDAYS for v in value):
            raise self.make_error("invalid")
        return frozenset(WEEKDAYS.index(v.lower()) for v in value)


class _Ref(fields.Field[str | int]):
    """A caller's reference: a non-empty string or an integer."""

    default_error_messages = {"invalid": "Expected a non-empty string or an integer."}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str | int:
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise self.make_error("invalid")
        return value


class _PriorityChoice(fields.Field[Priority | str]):
    default_error_messages = {"invalid": "Expected one of low, normal, high, urgent, from_tier."}

    def _serialize(self, value: Priority | str | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return value.label if isinstance(value, Priority) else value

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Priority | str:
        if value == FROM_TIER:
            return FROM_TIER
        if isinstance(value, str):
            try:
                return Priority.from_name(value)
            except ValueError:
                pass
        raise self.make_error("invalid")


class _Attributes(fields.Field[tuple[AttributeCondition, ...]]):
    """``{"plan": "5G"}`` (equals), ``{"plan": {"eq": "5G"}}``, ``{"region": {"in": ["SH", "BJ"]}}``."""

    def _serialize(self, value: tuple[AttributeCondition, ...] | None, attr: str | None, obj: Any, **kwargs: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        return {c.key: (c.values[0] if c.op == "eq" else {"in": list(c.values)}) for c in value}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> tuple[AttributeCondition, ...]:
        if not isinstance(value, dict) or not value:
            raise ValidationError("Expected a non-empty object of attribute conditions.")
        errors: dict[str, list[str]] = {}
        conditions: list[AttributeCondition] = []
        for key, spec in value.items():
            if isinstance(spec, dict):
                if len(spec) != 1 or next(iter(spec)) not in ("eq", "in"):
                    errors[key] = ['Expected a value, {"eq": value} or {"in": [values]}.']
                elif "eq" in spec and _is_scalar(spec["eq"]):
                    conditions.append(AttributeCondition(key, "eq", (spec["eq"],)))
                elif "in" in spec and isinstance(spec["in"], list) and spec["in"] and all(map(_is_scalar, spec["in"])):
                    conditions.append(AttributeCondition(key, "in", tuple(spec["in"])))
                else:
                    errors[key] = ["eq takes one JSON scalar; in takes a non-empty list of them."]
            elif _is_scalar(spec):
                conditions.append(AttributeCondition(key, "eq", (spec,)))
            else:
                errors[key] = ["Expected a JSON scalar (string, number, boolean, null) or an operator object."]
        if errors:
            raise ValidationError(errors)
        return tuple(conditions)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _non_empty_list(inner: fields.Field[Any]) -> fields.List[Any]:
    return fields.List(inner, allow_none=True, validate=validate.Length(min=1, error="Must not be empty; leave it out to match anything."))


_TEXT = fields.String(validate=validate.Length(min=1, max=200))


class TimeWindowSchema(_Strict):
    timezone = fields.String(required=True)
    start = _ClockTime(required=True)
    end = _ClockTime(required=True)
    weekdays = _Weekdays()

    @validates_schema
    def _known_zone(self, data: dict[str, Any], **kwargs: Any) -> None:
        try:
            _zone(data["timezone"])
        except ValueError as exc:
            raise ValidationError(str(exc), field_name="timezone") from None

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> TimeWindow:
        return TimeWindow(**data)


class ConditionsSchema(_Strict):
    channels = _non_empty_list(_TEXT)
    accounts = _non_empty_list(_TEXT)
    categories = _non_empty_list(_TEXT)
    keywords_any = _non_empty_list(fields.String(validate=validate.Regexp(r"\S", error="A keyword must not be blank.")))
    keywords_all = _non_empty_list(fields.String(validate=validate.Regexp(r"\S", error="A keyword must not be blank.")))
    languages = _non_empty_list(
        fields.String(validate=validate.Regexp(r"^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$", error="Not a language tag."))
    )
    tiers = _non_empty_list(fields.Enum(Tier, by_value=True))
    attributes = _Attributes(allow_none=True)
    time_windows = _non_empty_list(fields.Nested(TimeWindowSchema))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Conditions:
        return Conditions(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})

    @post_dump
    def _drop_unset(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}


class RuleOutcomeSchema(_Strict):
    workflow = fields.String(required=True, validate=validate.Length(min=1, max=100))
    department = _Ref(allow_none=True)
    department_function = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    priority = _PriorityChoice(load_default=FROM_TIER)
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list)

    @validates_schema
    def _one_department(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("department") is None) == (data.get("department_function") is None):
            raise ValidationError("Give exactly one of department and department_function.", field_name="department")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> RuleOutcome:
        return RuleOutcome(**{**data, "tags": tuple(data.get("tags", ()))})

    @post_dump
    def _drop_unset(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}


class RoutingRuleSchema(_Strict):
    id = _Ref(allow_none=True, load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    position = fields.Integer(required=True, strict=True)
    enabled = fields.Boolean(load_default=True)
    conditions = fields.Nested(ConditionsSchema, load_default=Conditions)
    outcome = fields.Nested(RuleOutcomeSchema, required=True)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> RoutingRule:
        return RoutingRule(**data)


def rule_from_dict(data: Mapping[str, Any]) -> RoutingRule:
    """One rule from JSON; raises marshmallow ``ValidationError`` with messages keyed by field."""
    rule: RoutingRule = RoutingRuleSchema().load(data)
    return rule


def rule_to_dict(rule: RoutingRule) -> dict[str, Any]:
    """The rule as JSON-ready data; ``rule_from_dict`` reads it back to an equal rule."""
    data: dict[str, Any] = RoutingRuleSchema().dump(rule)
    return data


def rules_from_dicts(data: Sequence[Mapping[str, Any]]) -> list[RoutingRule]:
    """A whole rule set from JSON, in evaluation order. Field errors raise ``ValidationError`` keyed
    by list index then field; a set without a final default rule raises ``RuleSetError``."""
    rules: list[RoutingRule] = RoutingRuleSchema(many=True).load(data)
    return validate_rules(rules)
