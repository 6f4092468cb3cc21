"""Reading workflow definitions from YAML: every problem is reported with its file and line."""

from __future__ import annotations

import difflib
import functools
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast, get_args

import yaml

from workflows.definitions import (
    RESERVED_ACTIONS,
    TICKET_STATUSES,
    AnyOf,
    ClockOps,
    ClockSpec,
    Condition,
    DefinitionError,
    DefinitionRegistry,
    Extension,
    Guard,
    GuardOp,
    GuardSource,
    Join,
    Notice,
    Owner,
    Problem,
    Scalar,
    Step,
    StepKind,
    TaskSpec,
    Transition,
    WorkflowDefinition,
    parse_duration,
)

SHIPPED_DIRECTORY = Path(__file__).parent / "definitions"

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_OPS: tuple[str, ...] = get_args(GuardOp)
_COMPARISONS = frozenset({"lt", "le", "gt", "ge"})
_SCALARS = (str, int, float, bool, type(None))


# -- YAML with line numbers --------------------------------------------------------------------


class _Map(dict[str, object]):
    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Seq(list[object]):
    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _Loader(yaml.SafeLoader):
    """A safe loader whose mappings and sequences remember their lines and which reports duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        line = key_node.start_mark.line + 1
        if key in result:
            loader.duplicates.append((line, key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(node.start_mark.line + 1)
    for child in node.value:
        result.append(loader.construct_object(child, deep=True))
        result.item_lines.append(child.start_mark.line + 1)
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


# -- parsing -----------------------------------------------------------------------------------


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Parser:
    """Turns the loaded YAML into dataclasses, collecting every problem instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def report(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.source, line, message))

    def keys(self, m: _Map, allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        for key in m:
            if key not in allowed:
                self.report(m.key_lines.get(key, m.line), f"unknown key '{key}' in {what}{_suggest(key, allowed)}")

    def mapping(self, value: object, line: int, what: str) -> _Map | None:
        if isinstance(value, _Map):
            return value
        self.report(line, f"{what} must be a mapping")
        return None

    def sequence(self, value: object, line: int, what: str) -> _Seq | None:
        if isinstance(value, _Seq):
            return value
        self.report(line, f"{what} must be a list")
        return None

    def text(self, m: _Map, key: str, what: str, default: str = "") -> str:
        value = m.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            self.report(m.line_of(key), f"'{key}' of {what} must be text")
            return default
        return value

    def ident(self, m: _Map, key: str, what: str, required: bool = True) -> str | None:
        if key not in m or m[key] is None:
            if required:
                self.report(m.line, f"{what} has no '{key}'")
            return None
        return self.ident_value(m[key], m.line_of(key), f"'{key}' of {what}")

    def ident_value(self, value: object, line: int, what: str) -> str | None:
        if isinstance(value, str) and _IDENT.match(value):
            return value
        self.report(line, f"{what} must be a lower_case name, not {value!r}")
        return None

    def idents(self, m: _Map, key: str, what: str) -> tuple[str, ...]:
        """A name or a list of names."""
        value = m.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.report(m.line_of(key), f"'{key}' of {what} must be a name or a list of names")
            return ()
        names = [self.ident_value(item, m.line_of(key), f"'{key}' of {what}") for item in value]
        return tuple(n for n in names if n is not None)

    def owner(self, m: _Map, key: str, what: str) -> Owner | None:
        value = m.get(key)
        if value is None:
            return None
        if isinstance(value, str | list):
            return Owner(functions=frozenset(self.idents(m, key, what)))
        spec = self.mapping(value, m.line_of(key), f"'{key}' of {what}")
        if spec is None:
            return None
        self.keys(spec, ("functions", "roles"), f"'{key}' of {what}")
        owner = Owner(frozenset(self.idents(spec, "functions", what)), frozenset(self.idents(spec, "roles", what)))
        if not owner.functions and not owner.roles:
            self.report(spec.line, f"'{key}' of {what} names no functions and no roles")
        return owner

    def clock_ops(self, m: _Map, what: str) -> ClockOps:
        spec = self.mapping(m["clocks"], m.line_of("clocks"), f"'clocks' of {what}") if "clocks" in m else None
        if spec is None:
            return ClockOps()
        self.keys(spec, ("start", "pause", "resume", "stop"), f"'clocks' of {what}")
        return ClockOps(*(self.idents(spec, op, f"'clocks' of {what}") for op in ("start", "pause", "resume", "stop")))

    def guard(self, value: object, line: int, what: str) -> Guard | None:
        spec = self.mapping(value, line, f"a guard of {what}")
        if spec is None:
            return None
        message = self.text(spec, "message", "a guard") or None
        if "any" in spec:
            self.keys(spec, ("any", "message"), f"a guard of {what}")
            options = self.sequence(spec["any"], spec.line_of("any"), f"'any' of a guard of {what}") or _Seq(spec.line)
            parsed = [self.guard(item, options.item_lines[i], what) for i, item in enumerate(options)]
            if not options:
                self.report(spec.line, f"'any' of a guard of {what} is empty")
            return AnyOf(tuple(g for g in parsed if g is not None), message, spec.line)
        self.keys(spec, ("field", "input", "count", "op", "value", "message"), f"a guard of {what}")
        sources = [s for s in ("field", "input", "count") if s in spec]
        if len(sources) != 1:
            self.report(spec.line, f"a guard of {what} needs exactly one of 'field', 'input' or 'count'")
            return None
        source = cast(GuardSource, sources[0])
        name = self.ident(spec, source, f"a guard of {what}")
        op = spec.get("op", "present" if "value" not in spec else "eq")
        if op not in _OPS:
            self.report(spec.line_of("op"), f"unknown guard operator {op!r} in {what}{_suggest(str(op), _OPS)} (known: {', '.join(_OPS)})")
            return None
        shaped = self.guard_value(spec, cast(GuardOp, op), source, what)
        if name is None or shaped is None:
            return None
        return Condition(source, name, cast(GuardOp, op), shaped[0], message, spec.line)

    def guard_value(self, spec: _Map, op: GuardOp, source: GuardSource, what: str) -> tuple[Scalar | tuple[Scalar, ...]] | None:
        """The guard's value in a 1-tuple, or None when its shape does not suit the operator."""
        line = spec.line_of("value")
        has, value = "value" in spec, spec.get("value")
        if op in ("present", "absent"):
            if has:
                self.report(line, f"guard operator '{op}' in {what} takes no value")
                return None
            return (None,)
        if not has:
            self.report(spec.line, f"guard operator '{op}' in {what} needs a value")
            return None
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not all(isinstance(v, _SCALARS) for v in value):
                self.report(line, f"guard operator '{op}' in {what} needs a list of plain values")
                return None
            return (tuple(cast(list[Scalar], value)),)
        if op in _COMPARISONS and (isinstance(value, bool) or not isinstance(value, int | float | str)):
            self.report(line, f"guard operator '{op}' in {what} needs a number or text, not {value!r}")
            return None
        if source == "count" and (isinstance(value, bool) or not isinstance(value, int)):
            self.report(line, f"a count guard in {what} compares with a whole number, not {value!r}")
            return None
        if not isinstance(value, _SCALARS):
            self.report(line, f"guard operator '{op}' in {what} needs a plain value")
            return None
        return (value,)

    def parse(self, doc: object) -> _Parts | None:
        top = self.mapping(doc, 1, "a workflow definition")
        if top is None:
            return None
        self.keys(
            top, ("key", "version", "name", "description", "applies_to", "initial_step", "clocks", "steps", "transitions"), "the workflow"
        )
        key = self.ident(top, "key", "the workflow") or "?"
        version = top.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.report(top.line_of("version"), f"'version' must be a whole number from 1, not {version!r}")
            version = 0
        parts = _Parts(key, version, self.text(top, "name", "the workflow", key), self.text(top, "description", "the workflow"), top)
        parts.initial = self.ident(top, "initial_step", "the workflow")
        self.parse_applies_to(top, parts)
        self.parse_clocks(top, parts)
        for i, item in enumerate(self.sequence(top.get("steps"), top.line_of("steps"), "'steps'") or ()):
            self.parse_step(item, cast(_Seq, top["steps"]).item_lines[i], parts)
        for i, item in enumerate(self.sequence(top.get("transitions"), top.line_of("transitions"), "'transitions'") or ()):
            self.parse_transition(item, cast(_Seq, top["transitions"]).item_lines[i], parts)
        return parts

    def parse_applies_to(self, top: _Map, parts: _Parts) -> None:
        spec = self.mapping(top["applies_to"], top.line_of("applies_to"), "'applies_to'") if "applies_to" in top else None
        for name, values in (spec or {}).items():
            line = cast(_Map, spec).line_of(name)
            if not isinstance(values, list) or not all(isinstance(v, str | int | float | bool) for v in values):
                self.report(line, f"'applies_to' of '{name}' must be a list of plain values")
                continue
            parts.applies_to[name] = tuple(cast(list[Scalar], values))

    def parse_clocks(self, top: _Map, parts: _Parts) -> None:
        spec = self.mapping(top["clocks"], top.line_of("clocks"), "'clocks'") if "clocks" in top else None
        for name, value in (spec or {}).items():
            line = cast(_Map, spec).line_of(name)
            if self.ident_value(name, line, "a clock name") is None:
                continue
            clock = _Map(line) if value is None else self.mapping(value, line, f"clock '{name}'")
            if clock is None:
                continue
            self.keys(clock, ("target",), f"clock '{name}'")
            target = clock.get("target")
            duration = parse_duration(target) if isinstance(target, str) else None
            if target is not None and duration is None:
                self.report(clock.line_of("target"), f"clock '{name}' has target {target!r}; write e.g. '48 hours' or '13 business days'")
            parts.clocks[name] = ClockSpec(name, duration, line)

    def parse_step(self, value: object, line: int, parts: _Parts) -> None:
        spec = self.mapping(value, line, "a step")
        if spec is None:
            return
        step_id = self.ident(spec, "id", "a step")
        if step_id is None:
            return
        what = f"step '{step_id}'"
        self.keys(spec, ("id", "kind", "name", "owner", "status", "clocks", "sla", "required_fields", "not_required_for", "tasks"), what)
        kind = spec.get("kind", "task")
        if kind not in get_args(StepKind):
            self.report(spec.line_of("kind"), f"{what} has kind {kind!r}; it must be task, countersign or final")
            kind = "task"
        status = self.ident(spec, "status", what, required=False)
        if status is not None and status not in TICKET_STATUSES:
            self.report(
                spec.line_of("status"),
                f"{what} has status '{status}'{_suggest(status, TICKET_STATUSES)}; known: {', '.join(sorted(TICKET_STATUSES))}",
            )
        tasks = self.parse_tasks(spec, what) if "tasks" in spec else None
        owner = self.owner(spec, "owner", what)
        if owner is None and kind == "countersign" and tasks is not None:
            owner = Owner(functions=frozenset({tasks.lead}))
        if owner is None and kind != "final":
            self.report(spec.line, f"{what} has no owner")
        if step_id in parts.steps:
            self.report(spec.line, f"duplicate step id '{step_id}' (first at line {parts.steps[step_id].line})")
            return
        parts.key_lines[spec.line] = spec.key_lines
        parts.steps[step_id] = Step(
            id=step_id,
            kind=cast(StepKind, kind),
            name=self.text(spec, "name", what, step_id),
            owner=owner,
            status=status,
            clocks=self.clock_ops(spec, what),
            sla=self.ident(spec, "sla", what, required=False),
            required_fields=self.idents(spec, "required_fields", what),
            not_required_for=frozenset(self.idents(spec, "not_required_for", what)),
            tasks=tasks,
            line=spec.line,
        )

    def parse_tasks(self, spec: _Map, what: str) -> TaskSpec | None:
        tasks = self.mapping(spec["tasks"], spec.line_of("tasks"), f"'tasks' of {what}")
        if tasks is None:
            return None
        self.keys(tasks, ("lead", "co_handlers", "clock", "required_fields"), f"'tasks' of {what}")
        lead = self.ident(tasks, "lead", f"'tasks' of {what}")
        co_handlers = self.idents(tasks, "co_handlers", f"'tasks' of {what}")
        if lead is None:
            return None
        functions = (lead, *co_handlers)
        for function in {f for f in functions if functions.count(f) > 1}:
            self.report(tasks.line, f"{what} names function '{function}' twice among its tasks")
        return TaskSpec(
            lead,
            co_handlers,
            self.ident(tasks, "clock", f"'tasks' of {what}", required=False),
            self.idents(tasks, "required_fields", f"'tasks' of {what}"),
            tasks.line,
        )

    def parse_transition(self, value: object, line: int, parts: _Parts) -> None:
        spec = self.mapping(value, line, "a transition")
        if spec is None:
            return
        if "join" in spec:
            self.keys(spec, ("join", "to"), "a join")
            step, target = self.ident(spec, "join", "a join"), self.ident(spec, "to", "a join")
            if step is not None and target is not None:
                parts.key_lines[spec.line] = spec.key_lines
                parts.joins.append(Join(step, target, spec.line))
            return
        action = self.ident(spec, "action", "a transition")
        if action is None:
            return
        what = f"transition '{action}'"
        allowed = ("action", "from", "to", "stay", "suspends", "resumes", "name", "guards", "inputs", "by", "clocks", "notify", "extends")
        self.keys(spec, allowed, what)
        if action in RESERVED_ACTIONS:
            self.report(spec.line, f"action '{action}' is reserved for the engine")
        flags = {flag: spec.get(flag, False) for flag in ("stay", "suspends", "resumes")}
        for flag, on in flags.items():
            if not isinstance(on, bool):
                self.report(spec.line_of(flag), f"'{flag}' of {what} must be true or false")
                flags[flag] = False
        target = self.ident(spec, "to", what, required=False)
        endings = [name for name, on in (("to", target is not None), ("stay", flags["stay"]), ("resumes", flags["resumes"])) if on]
        if len(endings) != 1:
            self.report(spec.line, f"{what} needs exactly one of 'to', 'stay: true' or 'resumes: true'")
        if flags["suspends"] and target is None:
            self.report(spec.line, f"{what} suspends but has no 'to' (the step where the case waits)")
        sources = self.idents(spec, "from", what)
        if not sources:
            self.report(spec.line, f"{what} has no 'from'")
        guards: list[Guard] = []
        if "guards" in spec:
            items = self.sequence(spec["guards"], spec.line_of("guards"), f"'guards' of {what}") or _Seq(spec.line)
            guards = [g for i, item in enumerate(items) if (g := self.guard(item, items.item_lines[i], what)) is not None]
        parts.key_lines[spec.line] = spec.key_lines
        parts.transitions.append(
            Transition(
                action=action,
                sources=sources,
                target=target,
                stay=bool(flags["stay"]),
                suspends=bool(flags["suspends"]),
                resumes=bool(flags["resumes"]),
                name=self.text(spec, "name", what, action),
                guards=tuple(guards),
                inputs=self.idents(spec, "inputs", what),
                by=self.owner(spec, "by", what),
                clocks=self.clock_ops(spec, what),
                notify=self.parse_notice(spec, what),
                extends=self.parse_extension(spec, what),
                line=spec.line,
            )
        )

    def parse_notice(self, spec: _Map, what: str) -> Notice | None:
        notice = self.mapping(spec["notify"], spec.line_of("notify"), f"'notify' of {what}") if "notify" in spec else None
        if notice is None:
            return None
        self.keys(notice, ("kind", "target"), f"'notify' of {what}")
        kind, target = self.ident(notice, "kind", f"'notify' of {what}"), self.ident(notice, "target", f"'notify' of {what}")
        return Notice(kind, target) if kind and target else None

    def parse_extension(self, spec: _Map, what: str) -> Extension | None:
        ext = self.mapping(spec["extends"], spec.line_of("extends"), f"'extends' of {what}") if "extends" in spec else None
        if ext is None:
            return None
        self.keys(ext, ("clock", "until", "by"), f"'extends' of {what}")
        clock = self.ident(ext, "clock", f"'extends' of {what}")
        until, by = self.ident(ext, "until", what, required=False), self.ident(ext, "by", what, required=False)
        if (until is None) == (by is None):
            self.report(ext.line, f"'extends' of {what} needs exactly one of 'until' or 'by' (the input holding the new target)")
        return Extension(clock, until, by) if clock else None


@dataclass
class _Parts:
    """What the parser could read, before the checks that need the whole definition."""

    key: str
    version: int
    name: str
    description: str
    top: _Map
    initial: str | None = None
    applies_to: dict[str, tuple[Scalar, ...]] = field(default_factory=dict)
    clocks: dict[str, ClockSpec] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)
    key_lines: dict[int, dict[str, int]] = field(default_factory=dict)  # by a step's or transition's line


# -- checks that need the whole definition -----------------------------------------------------


class _Checker:
    def __init__(self, parser: _Parser, parts: _Parts) -> None:
        self.p, self.parts = parser, parts
        self.steps = parts.steps
        self.dangling = False

    def at(self, line: int, key: str) -> int:
        """The line of one key of the step or transition starting at `line`."""
        return self.parts.key_lines.get(line, {}).get(key, line)

    def step_ref(self, name: str, line: int, what: str) -> bool:
        if name in self.steps:
            return True
        self.dangling = True
        self.p.report(line, f"{what} unknown step '{name}'{_suggest(name, self.steps)}")
        return False

    def clock_refs(self, names: Iterable[str], line: int, what: str) -> None:
        for name in names:
            if name not in self.parts.clocks:
                self.p.report(line, f"{what} names unknown clock '{name}'{_suggest(name, self.parts.clocks)}")

    def run(self) -> None:
        parts = self.parts
        if parts.initial is not None:
            self.step_ref(parts.initial, parts.top.line_of("initial_step"), "'initial_step' is an")
        if not any(s.is_final for s in self.steps.values()):
            self.p.report(parts.top.line_of("steps"), "the workflow has no final step")
        self.check_steps()
        self.check_transitions()
        self.check_joins()
        self.check_suspensions()
        # A dangling reference would make every step behind it look unreachable: report it alone.
        if parts.initial is not None and not self.dangling:
            self.check_graph(parts.initial)

    def check_steps(self) -> None:
        for step in self.steps.values():
            what = f"step '{step.id}'"
            self.clock_refs(step.clocks.names(), self.at(step.line, "clocks"), what)
            if step.sla is not None:
                self.clock_refs([step.sla], self.at(step.line, "sla"), f"'sla' of {what}")
            if step.tasks is not None:
                if step.kind != "countersign":
                    self.p.report(step.tasks.line, f"{what} has tasks but is not a countersign step")
                self.clock_refs([step.tasks.clock] if step.tasks.clock else [], step.tasks.line, f"'tasks' of {what}")
            elif step.kind == "countersign":
                self.p.report(step.line, f"countersign step '{step.id}' has no tasks (name a lead and its co_handlers)")
            leaving = {t.action for t in self.parts.transitions if step.id in t.sources}
            for action in sorted(step.not_required_for - leaving):
                self.p.report(
                    self.at(step.line, "not_required_for"),
                    f"{what} exempts '{action}', which is not an action out of it{_suggest(action, leaving)}",
                )
            if step.is_final and (step.required_fields or step.clocks.start or step.clocks.resume):
                self.p.report(step.line, f"final {what} cannot require fields or start clocks")

    def check_transitions(self) -> None:
        seen: dict[tuple[str, str], Transition] = {}
        for t in self.parts.transitions:
            what = f"transition '{t.action}'"
            for source in t.sources:
                if not self.step_ref(source, self.at(t.line, "from"), f"{what} comes from"):
                    continue
                if self.steps[source].is_final:
                    self.p.report(self.at(t.line, "from"), f"{what} leaves final step '{source}'")
                earlier = seen.get((source, t.action))
                if earlier is not None and not earlier.guards:
                    self.p.report(t.line, f"{what} from '{source}' can never be taken: the one at line {earlier.line} has no guards")
                seen.setdefault((source, t.action), t)
            if t.target is not None:
                self.step_ref(t.target, self.at(t.line, "to"), f"{what} goes to")
            self.clock_refs(t.clocks.names(), self.at(t.line, "clocks"), what)
            if t.extends is not None:
                self.clock_refs([t.extends.clock], self.at(t.line, "extends"), f"'extends' of {what}")
                name = t.extends.until or t.extends.by
                if name is not None and name not in t.inputs:
                    self.p.report(self.at(t.line, "extends"), f"'extends' of {what} reads input '{name}', which is not among its inputs")

    def check_joins(self) -> None:
        joined: dict[str, Join] = {}
        for join in self.parts.joins:
            if self.step_ref(join.step, self.at(join.line, "join"), "a join comes from") and self.steps[join.step].kind != "countersign":
                self.p.report(join.line, f"a join from '{join.step}', which is not a countersign step (a join without a fork)")
            self.step_ref(join.target, self.at(join.line, "to"), f"the join of '{join.step}' goes to")
            if join.step in joined:
                self.p.report(join.line, f"a second join from '{join.step}' (the first is at line {joined[join.step].line})")
            joined.setdefault(join.step, join)
        for step in self.steps.values():
            if step.kind == "countersign" and step.id not in joined:
                self.p.report(step.line, f"countersign step '{step.id}' has no join (add '- join: {step.id}' with 'to:')")

    def check_suspensions(self) -> None:
        suspension = {t.target for t in self.parts.transitions if t.suspends and t.target is not None}
        for t in self.parts.transitions:
            what = f"transition '{t.action}'"
            if t.target in suspension and not t.suspends:
                self.p.report(self.at(t.line, "to"), f"{what} goes to '{t.target}', where only suspending transitions may lead")
            for source in t.sources:
                if t.suspends and source in suspension:
                    self.p.report(t.line, f"{what} suspends a case that is already suspended in '{source}'")
                if t.resumes and source in self.steps and source not in suspension:
                    self.p.report(self.at(t.line, "from"), f"{what} resumes from '{source}', which no suspending transition leads to")
                if source in suspension and (t.clocks.start or t.clocks.resume) and not t.resumes:
                    self.p.report(self.at(t.line, "clocks"), f"{what} starts clocks while the case is suspended in '{source}'")
        for join in self.parts.joins:
            if join.target in suspension:
                self.p.report(join.line, f"the join of '{join.step}' goes to '{join.target}', where only suspending transitions may lead")
        for name in sorted(suspension & set(self.steps)):
            step = self.steps[name]
            if step.clocks.start or step.clocks.resume:
                self.p.report(
                    self.at(step.line, "clocks"), f"step '{name}' is where suspended cases wait; it cannot start or resume clocks"
                )
            if step.kind != "task":
                self.p.report(step.line, f"step '{name}' is where suspended cases wait; it must be a task step")

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {name: set() for name in self.steps}
        suspended_from: dict[str, set[str]] = {}
        for t in self.parts.transitions:
            if t.suspends and t.target is not None:
                suspended_from.setdefault(t.target, set()).update(t.sources)
        for t in self.parts.transitions:
            for source in (s for s in t.sources if s in out):
                if t.target is not None:
                    out[source].add(t.target)
                elif t.resumes:
                    out[source] |= suspended_from.get(source, set())
        for join in self.parts.joins:
            if join.step in out:
                out[join.step].add(join.target)
        return {source: targets & set(out) for source, targets in out.items()}

    def check_graph(self, initial: str) -> None:
        out = self.edges()
        reached = _reach(initial, out)
        for step in self.steps.values():
            if step.id not in reached:
                self.p.report(step.line, f"step '{step.id}' is unreachable from '{initial}'")
        backward: dict[str, set[str]] = {name: set() for name in self.steps}
        for source, targets in out.items():
            for target in targets:
                backward[target].add(source)
        finishing: set[str] = set()
        for final in (s.id for s in self.steps.values() if s.is_final):
            finishing |= _reach(final, backward)
        for step in self.steps.values():
            if step.is_final or step.id not in reached:
                continue
            if not out[step.id] - {step.id}:
                self.p.report(step.line, f"step '{step.id}' has no way out: it is not final and no transition leaves it")
            elif step.id not in finishing:
                self.p.report(step.line, f"step '{step.id}' can never reach a final step")


def _reach(start: str, out: dict[str, set[str]]) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in out.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


# -- public ------------------------------------------------------------------------------------


def _read(text: str, source: str) -> tuple[WorkflowDefinition | None, list[Problem]]:
    parser = _Parser(source)
    loader = _Loader(text)
    try:
        doc = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return None, [Problem(source, mark.line + 1 if mark else 1, f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem(source, 1, f"not valid YAML: {exc}")]
    finally:
        loader.dispose()
    for line, key in loader.duplicates:
        parser.report(line, f"duplicate key '{key}'")
    parts = parser.parse(doc)
    if parts is None:
        return None, parser.problems
    _Checker(parser, parts).run()
    if parser.problems or parts.initial is None:
        return None, parser.problems
    definition = WorkflowDefinition(
        key=parts.key,
        version=parts.version,
        name=parts.name,
        description=parts.description.strip(),
        initial_step=parts.initial,
        steps=dict(parts.steps),
        transitions=tuple(parts.transitions),
        joins={join.step: join for join in parts.joins},
        clocks=dict(parts.clocks),
        applies_to=dict(parts.applies_to),
        source=source,
    )
    return definition, []


def load_definition(text: str, source: str = "<string>") -> WorkflowDefinition:
    """Parse and validate one definition; raises DefinitionError naming every bad line."""
    definition, problems = _read(text, source)
    if definition is None:
        raise DefinitionError(problems)
    return definition


def load_file(path: str | Path) -> WorkflowDefinition:
    path = Path(path)
    return load_definition(path.read_text(encoding="utf-8"), path.name)


def load_directory(path: str | Path) -> DefinitionRegistry:
    """Every *.yaml / *.yml file in the directory, each one version of one workflow."""
    definitions, problems = [], []
    files = sorted(p for p in Path(path).iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    for file in files:
        definition, found = _read(file.read_text(encoding="utf-8"), file.name)
        problems.extend(found)
        if definition is not None:
            definitions.append(definition)
    if problems:
        raise DefinitionError(problems)
    return DefinitionRegistry(definitions)


@functools.cache
def shipped_registry() -> DefinitionRegistry:
    """The definitions shipped in workflows/definitions/, loaded once per process."""
    return load_directory(SHIPPED_DIRECTORY)
