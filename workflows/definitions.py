"""Workflow definitions: the YAML format as frozen dataclasses, validated with line numbers, kept by version."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeAlias, cast

StepKind: TypeAlias = Literal["task", "countersign", "final"]
GuardOp: TypeAlias = Literal["eq", "ne", "in", "not_in", "contains", "lt", "le", "gt", "ge", "present", "absent"]
GuardSource: TypeAlias = Literal["field", "input", "count"]
DurationUnit: TypeAlias = Literal["minutes", "hours", "days"]
Scalar: TypeAlias = str | int | float | bool | None

# The function a caller grants an actor who belongs to the department the case sits in now.
CASE_DEPARTMENT = "case_department"
# Task-level actions of countersign steps; the engine provides them, definitions only configure them.
COMPLETE_TASK = "complete_task"
RETURN_TASK = "return_task"
JOIN = "join"
START = "start"
RESERVED_ACTIONS = frozenset({COMPLETE_TASK, RETURN_TASK, JOIN, START})
# Ticket statuses a step may map to (the desk's usual set, see DOMAIN.md).
TICKET_STATUSES = frozenset({"new", "open", "pending", "on_hold", "solved", "closed"})

_DURATION = re.compile(r"^(\d+)\s*(business\s+)?(minutes?|mins?|m|hours?|h|days?|d)$")
_UNITS: dict[str, DurationUnit] = {
    "m": "minutes",
    "min": "minutes",
    "minute": "minutes",
    "h": "hours",
    "hour": "hours",
    "d": "days",
    "day": "days",
}


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    """An SLA target such as "48 hours" or "13 business days"; business time is counted by the SLA calendar."""

    amount: int
    unit: DurationUnit
    business: bool = False

    def __str__(self) -> str:
        return f"{self.amount} {'business ' if self.business else ''}{self.unit}"

    def seconds(self, day_seconds: float = 86400.0) -> float:
        """The target in seconds; for business time pass the calendar's working day (e.g. 8 * 3600)."""
        unit = {"minutes": 60.0, "hours": 3600.0, "days": day_seconds}[self.unit]
        return self.amount * unit

    def to_timedelta(self) -> timedelta:
        if self.business:
            raise ValueError(f"{self} needs a business calendar")
        return timedelta(**{self.unit: self.amount})


def parse_duration(text: str) -> Duration | None:
    match = _DURATION.match(text.strip().lower())
    if match is None:
        return None
    unit = match.group(3).rstrip("s")
    return Duration(int(match.group(1)), _UNITS.get(unit, "minutes"), match.group(2) is not None)


@dataclass(frozen=True)
class ClockSpec:
    name: str
    target: Duration | None  # None: the SLA policy (tier x priority x channel) supplies it
    line: int


@dataclass(frozen=True)
class ClockOps:
    """Clock operations, applied in the order stop, pause, resume, start."""

    start: tuple[str, ...] = ()
    pause: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return self.stop + self.pause + self.resume + self.start


@dataclass(frozen=True)
class Owner:
    """Who may act: one of the functions (if any are named) and one of the roles (if any are named)."""

    functions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()

    def allows(self, functions: frozenset[str], role: str) -> bool:
        if self.functions and not self.functions & functions:
            return False
        return not self.roles or role in self.roles

    def __str__(self) -> str:
        parts = []
        if self.functions:
            parts.append("functions " + ", ".join(sorted(self.functions)))
        if self.roles:
            parts.append("roles " + ", ".join(sorted(self.roles)))
        return " and ".join(parts) or "anyone"


@dataclass(frozen=True)
class Condition:
    """One comparison over a ticket field, an action input or the number of times an action was applied."""

    source: GuardSource
    name: str
    op: GuardOp
    value: Scalar | tuple[Scalar, ...]
    message: str | None
    line: int

    def check(self, fields: Mapping[str, object], inputs: Mapping[str, object] | None, counts: Mapping[str, int]) -> str | None:
        """None when the condition holds or cannot be decided yet (an input guard before inputs exist)."""
        if self.source == "input" and inputs is None:
            return None
        if self.source == "count":
            actual: object = counts.get(self.name, 0)
        else:
            actual = (fields if self.source == "field" else inputs or {}).get(self.name)
        if _holds(self.op, actual, self.value):
            return None
        return self.message or self._explain(actual)

    def _explain(self, actual: object) -> str:
        subject = {"field": "field", "input": "input", "count": "the number of"}[self.source]
        subject = f"{subject} '{self.name}'" + (" actions" if self.source == "count" else "")
        phrase = {
            "eq": "be {}",
            "ne": "not be {}",
            "in": "be one of {}",
            "not_in": "not be one of {}",
            "contains": "contain {}",
            "lt": "be less than {}",
            "le": "be at most {}",
            "gt": "be more than {}",
            "ge": "be at least {}",
            "present": "be given",
            "absent": "be empty",
        }[self.op].format(_show(self.value))
        return f"{subject} must {phrase} (it is {'missing' if actual is None else _show(actual)})"


@dataclass(frozen=True)
class AnyOf:
    """Holds when one of its options holds."""

    options: tuple[Guard, ...]
    message: str | None
    line: int

    def check(self, fields: Mapping[str, object], inputs: Mapping[str, object] | None, counts: Mapping[str, int]) -> str | None:
        failures = []
        for option in self.options:
            failure = option.check(fields, inputs, counts)
            if failure is None:
                return None
            failures.append(failure)
        return self.message or " or ".join(failures)


Guard: TypeAlias = Condition | AnyOf


def check_guards(
    guards: Iterable[Guard], fields: Mapping[str, object], inputs: Mapping[str, object] | None, counts: Mapping[str, int]
) -> str | None:
    """The first failing guard's message, or None when all hold."""
    for guard in guards:
        failure = guard.check(fields, inputs, counts)
        if failure is not None:
            return failure
    return None


def is_present(value: object) -> bool:
    if value is None or value == "":
        return False
    return not (isinstance(value, list | tuple | set | frozenset | dict) and len(value) == 0)


def _holds(op: GuardOp, actual: object, expected: Scalar | tuple[Scalar, ...]) -> bool:
    if op == "present":
        return is_present(actual)
    if op == "absent":
        return not is_present(actual)
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if op == "in":
        return isinstance(expected, tuple) and actual in expected
    if op == "not_in":
        return isinstance(expected, tuple) and actual not in expected
    if op == "contains":
        return isinstance(actual, list | tuple | set | frozenset) and expected in actual
    # Comparisons hold only between two numbers or two strings; anything else (missing, mixed) fails.
    if isinstance(actual, bool) or isinstance(expected, bool):
        return False
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return _compare(op, float(actual), float(expected))
    if isinstance(actual, str) and isinstance(expected, str):
        return _compare(op, actual, expected)
    return False


def _compare(op: GuardOp, a: float | str, b: float | str) -> bool:
    # a and b share a type; the checks above guarantee it.
    left, right = cast(float, a), cast(float, b)
    return {"lt": left < right, "le": left <= right, "gt": left > right, "ge": left >= right}[op]


def _show(value: object) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(_show(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class TaskSpec:
    """The parallel department tasks of a countersign step: one lead (主办) and its co-handlers (协办)."""

    lead: str
    co_handlers: tuple[str, ...]
    clock: str | None  # each task runs its own instance of this clock
    required_fields: tuple[str, ...]  # inputs required to complete a task
    line: int

    @property
    def functions(self) -> tuple[str, ...]:
        return (self.lead, *self.co_handlers)


@dataclass(frozen=True)
class Step:
    id: str
    kind: StepKind
    name: str
    owner: Owner | None  # None only for final steps
    status: str | None  # the ticket status while the case is here
    clocks: ClockOps  # applied on entering the step
    sla: str | None  # the clock whose due time is this step's deadline
    required_fields: tuple[str, ...]  # ticket fields that must be present to leave the step
    not_required_for: frozenset[str]  # actions that leave without them (besides suspend and stay)
    tasks: TaskSpec | None  # countersign steps only
    line: int

    @property
    def is_final(self) -> bool:
        return self.kind == "final"


@dataclass(frozen=True)
class Notice:
    kind: str  # e.g. urge, supervise
    target: str  # a function, or case_department


@dataclass(frozen=True)
class Extension:
    """An approved extension moves a clock's target; the value comes from the named input."""

    clock: str
    until: str | None  # input holding the new due time
    by: str | None  # input holding the extra time


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None for stay and resumes transitions
    stay: bool  # the step does not change (urge, supervise)
    suspends: bool  # pauses every running clock and remembers the step
    resumes: bool  # goes back to the remembered step and resumes the paused clocks
    name: str
    guards: tuple[Guard, ...]
    inputs: tuple[str, ...]  # inputs required with the action
    by: Owner | None  # who may take it; None: the source step's owner
    clocks: ClockOps
    notify: Notice | None
    extends: Extension | None
    line: int


@dataclass(frozen=True)
class Join:
    """The AND-join of a countersign step: when every task is closed the case moves to the target."""

    step: str
    target: str
    line: int


@dataclass(frozen=True)
class WorkflowDefinition:
    key: str
    version: int
    name: str
    description: str
    initial_step: str
    steps: Mapping[str, Step]
    transitions: tuple[Transition, ...]
    joins: Mapping[str, Join]  # by countersign step id
    clocks: Mapping[str, ClockSpec]
    applies_to: Mapping[str, tuple[Scalar, ...]]
    source: str

    @property
    def ref(self) -> str:
        return f"{self.key}@v{self.version}"

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]

    def transitions_from(self, step_id: str) -> tuple[Transition, ...]:
        return self._by_source.get(step_id, ())

    @functools.cached_property
    def _by_source(self) -> dict[str, tuple[Transition, ...]]:
        grouped: dict[str, list[Transition]] = {}
        for transition in self.transitions:
            for source in transition.sources:
                grouped.setdefault(source, []).append(transition)
        return {step: tuple(ts) for step, ts in grouped.items()}

    @functools.cached_property
    def actions(self) -> frozenset[str]:
        return frozenset(t.action for t in self.transitions)

    @functools.cached_property
    def suspension_steps(self) -> frozenset[str]:
        return frozenset(t.target for t in self.transitions if t.suspends and t.target is not None)

    @functools.cached_property
    def functions(self) -> frozenset[str]:
        """Every department function the definition names (owners, by, tasks, notices)."""
        names: set[str] = set()
        for step in self.steps.values():
            names |= step.owner.functions if step.owner else set()
            names |= set(step.tasks.functions) if step.tasks else set()
        for transition in self.transitions:
            names |= transition.by.functions if transition.by else set()
            names |= {transition.notify.target} if transition.notify else set()
        return frozenset(names)

    def matches(self, fields: Mapping[str, object]) -> bool:
        """Whether a ticket with these fields starts this workflow (an empty applies_to matches anything)."""
        return all(fields.get(name) in values for name, values in self.applies_to.items())


# -- problems ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source} line {self.line}: {self.message}"


class DefinitionError(ValueError):
    """A definition (or a set of them) is invalid; every problem names its file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.source, p.line, p.message)))
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownDefinition(LookupError):
    pass


# -- versions ----------------------------------------------------------------------------------


class DefinitionRegistry:
    """Every loaded version of every workflow; a running case asks for the version it started with."""

    def __init__(self, definitions: Iterable[WorkflowDefinition]) -> None:
        self._by_key: dict[str, dict[int, WorkflowDefinition]] = {}
        problems = []
        for definition in definitions:
            versions = self._by_key.setdefault(definition.key, {})
            if definition.version in versions:
                other = versions[definition.version]
                problems.append(Problem(definition.source, 1, f"{definition.ref} is also defined in {other.source}"))
            versions[definition.version] = definition
        if problems:
            raise DefinitionError(problems)

    def get(self, key: str, version: int | None = None) -> WorkflowDefinition:
        """The given version, or the latest when version is None."""
        versions = self._by_key.get(key)
        if not versions:
            raise UnknownDefinition(f"no workflow '{key}'")
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise UnknownDefinition(f"no version {version} of workflow '{key}' (known: {', '.join(map(str, sorted(versions)))})")
        return versions[version]

    def versions(self, key: str) -> tuple[int, ...]:
        return tuple(sorted(self._by_key.get(key, {})))

    def keys(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_key))

    def latest(self) -> tuple[WorkflowDefinition, ...]:
        return tuple(self.get(key) for key in self.keys())

    def select(self, fields: Mapping[str, object]) -> WorkflowDefinition | None:
        """The latest workflow whose applies_to matches the ticket; the most specific match wins, then the key."""
        matching = [d for d in self.latest() if d.matches(fields)]
        matching.sort(key=lambda d: (-len(d.applies_to), d.key))
        return matching[0] if matching else None

    def __iter__(self) -> Iterator[WorkflowDefinition]:
        for key in self.keys():
            yield from (self._by_key[key][v] for v in self.versions(key))

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def __contains__(self, key: object) -> bool:
        return key in self._by_key
