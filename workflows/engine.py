"""The case state machine: what an actor may do now, and what applying an action does; pure, no I/O.

The caller (service_hub/casework) loads the case's CaseState, resolves the actor's functions for this
case, calls apply(), stores the new state and turns the effects into rows, audit entries and events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, TypeAlias, cast, get_args

from workflows.definitions import (
    COMPLETE_TASK,
    JOIN,
    RETURN_TASK,
    START,
    ClockOps,
    Duration,
    Owner,
    Step,
    Transition,
    WorkflowDefinition,
    check_guards,
    is_present,
)

ClockStatus: TypeAlias = Literal["running", "paused", "stopped"]
TaskStatus: TypeAlias = Literal["open", "done", "returned", "cancelled"]
TASK_RETURNED = "task_returned"  # the Notify kind sent to the lead when a co-handler returns its task


def clock_key(clock: str, task_id: str | None = None) -> str:
    """How CaseState.clocks names a clock: the clock itself, or one task's instance of it."""
    return clock if task_id is None else f"{clock}@{task_id}"


def split_clock_key(key: str) -> tuple[str, str | None]:
    clock, _, task_id = key.partition("@")
    return clock, task_id or None


# -- state -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskState:
    """One department's part of a countersign step (主办 lead or 协办 co-handler)."""

    task_id: str
    function: str
    lead: bool
    status: TaskStatus = "open"
    department_ref: str | None = None  # set by the caller once routing picked the department


@dataclass(frozen=True)
class CaseState:
    """Where a case stands in its workflow; the caller keeps the history."""

    definition_key: str
    definition_version: int
    step: str
    tasks: Mapping[str, TaskState] = field(default_factory=dict)  # the current countersign step's tasks
    clocks: Mapping[str, ClockStatus] = field(default_factory=dict)  # by clock_key()
    suspended_from: str | None = None  # the step a resume goes back to
    paused_by_suspend: tuple[str, ...] = ()  # clock keys the suspension paused, resumed together
    action_counts: Mapping[str, int] = field(default_factory=dict)
    task_serial: int = 0
    extensions: int = 0  # approved extensions (transitions with 'extends') so far
    finished: bool = False

    @property
    def suspended(self) -> bool:
        return self.suspended_from is not None

    @property
    def open_tasks(self) -> tuple[TaskState, ...]:
        return tuple(t for t in self.tasks.values() if t.status == "open")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form for the case's row."""
        return {
            "definition_key": self.definition_key,
            "definition_version": self.definition_version,
            "step": self.step,
            "tasks": [
                {"task_id": t.task_id, "function": t.function, "lead": t.lead, "status": t.status, "department_ref": t.department_ref}
                for t in self.tasks.values()
            ],
            "clocks": dict(self.clocks),
            "suspended_from": self.suspended_from,
            "paused_by_suspend": list(self.paused_by_suspend),
            "action_counts": dict(self.action_counts),
            "task_serial": self.task_serial,
            "extensions": self.extensions,
            "finished": self.finished,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CaseState:
        try:
            tasks = {}
            for raw in cast(list[Mapping[str, object]], data.get("tasks", [])):
                status = raw["status"]
                if status not in get_args(TaskStatus):
                    raise ValueError(f"task status {status!r}")
                ref = raw.get("department_ref")
                task = TaskState(
                    str(raw["task_id"]),
                    str(raw["function"]),
                    bool(raw["lead"]),
                    cast(TaskStatus, status),
                    None if ref is None else str(ref),
                )
                tasks[task.task_id] = task
            clocks = {str(k): v for k, v in cast(Mapping[str, object], data.get("clocks", {})).items()}
            if any(v not in get_args(ClockStatus) for v in clocks.values()):
                raise ValueError("clock status")
            suspended_from = data.get("suspended_from")
            return cls(
                definition_key=str(data["definition_key"]),
                definition_version=int(cast(int, data["definition_version"])),
                step=str(data["step"]),
                tasks=tasks,
                clocks=cast(dict[str, ClockStatus], clocks),
                suspended_from=None if suspended_from is None else str(suspended_from),
                paused_by_suspend=tuple(str(k) for k in cast(list[object], data.get("paused_by_suspend", []))),
                action_counts={str(k): int(cast(int, v)) for k, v in cast(Mapping[str, object], data.get("action_counts", {})).items()},
                task_serial=int(cast(int, data.get("task_serial", 0))),
                extensions=int(cast(int, data.get("extensions", 0))),
                finished=bool(data.get("finished", False)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a stored case state: {exc}") from exc


@dataclass(frozen=True)
class Actor:
    """Who acts; the caller resolves the functions the agent holds for this case.

    E.g. a member of the department the case sits in holds "case_department"; a member of a billing
    department holds "billing". task_ids, when given, limits which countersign tasks the actor may
    close (None: any open task of a function it holds).
    """

    agent_ref: str
    role: str
    functions: frozenset[str] = frozenset()
    task_ids: frozenset[str] | None = None

    def may_handle(self, task: TaskState) -> bool:
        return task.function in self.functions and (self.task_ids is None or task.task_id in self.task_ids)

    def __str__(self) -> str:
        functions = ", ".join(sorted(self.functions)) or "none"
        return f"'{self.agent_ref}' (role {self.role}; functions {functions})"


# -- effects: what the service layer must do --------------------------------------------------


@dataclass(frozen=True)
class StepEntered:
    step: str


@dataclass(frozen=True)
class StepLeft:
    step: str


@dataclass(frozen=True)
class TaskOpened:
    task_id: str
    function: str
    lead: bool


@dataclass(frozen=True)
class TaskClosed:
    task_id: str
    function: str
    outcome: Literal["done", "returned", "cancelled"]


@dataclass(frozen=True)
class ClockStarted:
    """A new run of the clock (also after it was stopped); target None: take it from the SLA policy."""

    clock: str
    task_id: str | None = None
    target: Duration | None = None


@dataclass(frozen=True)
class ClockPaused:
    clock: str
    task_id: str | None = None


@dataclass(frozen=True)
class ClockResumed:
    clock: str
    task_id: str | None = None


@dataclass(frozen=True)
class ClockStopped:
    clock: str
    task_id: str | None = None


@dataclass(frozen=True)
class TargetExtended:
    """An approved extension: the clock's due time moves to `until`, or later by `by` (raw inputs)."""

    clock: str
    until: object = None
    by: object = None


@dataclass(frozen=True)
class CaseFinished:
    step: str


@dataclass(frozen=True)
class Notify:
    kind: str  # urge, supervise, task_returned ...
    target: str  # a function, or case_department
    task_id: str | None = None


Effect: TypeAlias = (
    StepEntered
    | StepLeft
    | TaskOpened
    | TaskClosed
    | ClockStarted
    | ClockPaused
    | ClockResumed
    | ClockStopped
    | TargetExtended
    | CaseFinished
    | Notify
)


@dataclass(frozen=True)
class ActionOption:
    """One action the actor may take now; required_fields must be sent with it (inputs, and step fields the ticket lacks)."""

    action: str
    name: str
    target_step: str  # where the case will be afterwards (the same step for urge, or a task that leaves others open)
    required_fields: tuple[str, ...]
    needs_task: bool = False
    task_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    state: CaseState
    effects: tuple[Effect, ...]
    action: str
    from_step: str | None
    to_step: str
    task_id: str | None = None
    transition: Transition | None = None


class ActionRefused(Exception):
    """The action cannot be applied; code is stable for the API, message is for people."""

    def __init__(self, code: str, message: str, field_errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_errors = dict(field_errors or {})


# -- the run: a mutable working copy that records effects -------------------------------------


class _Run:
    def __init__(self, definition: WorkflowDefinition, state: CaseState) -> None:
        self.definition = definition
        self.step = state.step
        self.tasks = dict(state.tasks)
        self.clocks = dict(state.clocks)
        self.suspended_from = state.suspended_from
        self.paused = list(state.paused_by_suspend)
        self.counts = dict(state.action_counts)
        self.serial = state.task_serial
        self.extensions = state.extensions
        self.finished = state.finished
        self.effects: list[Effect] = []

    def state(self) -> CaseState:
        return CaseState(
            self.definition.key,
            self.definition.version,
            self.step,
            self.tasks,
            self.clocks,
            self.suspended_from,
            tuple(self.paused),
            self.counts,
            self.serial,
            self.extensions,
            self.finished,
        )

    def start(self, key: str) -> None:
        if self.clocks.get(key) not in ("running", "paused"):
            self.clocks[key] = "running"
            clock, task_id = split_clock_key(key)
            self.effects.append(ClockStarted(clock, task_id, self.definition.clocks[clock].target))

    def pause(self, key: str) -> None:
        if self.clocks.get(key) == "running":
            self.clocks[key] = "paused"
            self.effects.append(ClockPaused(*split_clock_key(key)))

    def resume(self, key: str) -> None:
        if self.clocks.get(key) == "paused":
            self.clocks[key] = "running"
            self.effects.append(ClockResumed(*split_clock_key(key)))

    def stop(self, key: str) -> None:
        if self.clocks.get(key) in ("running", "paused"):
            self.clocks[key] = "stopped"
            self.effects.append(ClockStopped(*split_clock_key(key)))
        if key in self.paused:
            self.paused.remove(key)

    def clock_ops(self, ops: ClockOps) -> None:
        for name in ops.stop:
            self.stop(name)
        for name in ops.pause:
            self.pause(name)
        for name in ops.resume:
            self.resume(name)
        for name in ops.start:
            self.start(name)

    def enter(self, step_id: str) -> None:
        step = self.definition.steps[step_id]
        self.step = step_id
        self.effects.append(StepEntered(step_id))
        self.clock_ops(step.clocks)
        if step.tasks is not None:
            for function in step.tasks.functions:
                self.serial += 1
                task = TaskState(f"{step_id}.{function}.{self.serial}", function, lead=function == step.tasks.lead)
                self.tasks[task.task_id] = task
                self.effects.append(TaskOpened(task.task_id, function, task.lead))
                if step.tasks.clock is not None:
                    self.start(clock_key(step.tasks.clock, task.task_id))
        if step.is_final:
            for key in [k for k, status in self.clocks.items() if status != "stopped"]:
                self.stop(key)
            self.finished = True
            self.effects.append(CaseFinished(step_id))

    def leave(self, cancel_tasks: bool) -> None:
        self.effects.append(StepLeft(self.step))
        if cancel_tasks:
            self.drop_tasks()

    def close_task(self, task: TaskState, outcome: Literal["done", "returned", "cancelled"]) -> None:
        self.tasks[task.task_id] = replace(task, status=outcome)
        self.effects.append(TaskClosed(task.task_id, task.function, outcome))
        for key in [k for k in self.clocks if split_clock_key(k)[1] == task.task_id]:
            self.stop(key)

    def drop_tasks(self) -> None:
        """Tasks belong to one visit of a countersign step: cancel what is open, forget the rest."""
        for task in [t for t in self.tasks.values() if t.status == "open"]:
            self.close_task(task, "cancelled")
        self.tasks = {}
        for key in [k for k in self.clocks if split_clock_key(k)[1] is not None]:
            del self.clocks[key]

    def transition_effects(self, transition: Transition, fields: Mapping[str, object], inputs: Mapping[str, object]) -> None:
        if transition.extends is not None:
            ext = transition.extends
            until = inputs.get(ext.until, fields.get(ext.until)) if ext.until else None
            by = inputs.get(ext.by, fields.get(ext.by)) if ext.by else None
            self.effects.append(TargetExtended(ext.clock, until, by))
            self.extensions += 1
        if transition.notify is not None:
            self.effects.append(Notify(transition.notify.kind, transition.notify.target))
        self.clock_ops(transition.clocks)

    def take(self, transition: Transition, fields: Mapping[str, object], inputs: Mapping[str, object]) -> None:
        self.counts[transition.action] = self.counts.get(transition.action, 0) + 1
        if transition.stay:
            self.transition_effects(transition, fields, inputs)
            return
        if transition.suspends and transition.target is not None:
            self.leave(cancel_tasks=False)
            self.paused = [key for key, status in self.clocks.items() if status == "running"]
            for key in self.paused:
                self.pause(key)
            self.suspended_from = self.step
            self.transition_effects(transition, fields, inputs)
            self.enter(transition.target)
            return
        origin = self.suspended_from
        if origin is not None:
            # Leaving the suspension: the clocks it paused run again, whichever way the case goes on.
            self.leave(cancel_tasks=False)
            for key in list(self.paused):
                self.resume(key)
            self.paused, self.suspended_from = [], None
            if transition.resumes:
                self.transition_effects(transition, fields, inputs)
                self.step = origin
                self.effects.append(StepEntered(origin))
                return
            self.drop_tasks()
        else:
            self.leave(cancel_tasks=True)
        self.transition_effects(transition, fields, inputs)
        if transition.target is not None:
            self.enter(transition.target)

    def join_if_done(self) -> None:
        step = self.definition.steps[self.step]
        if step.tasks is not None and not any(t.status == "open" for t in self.tasks.values()):
            self.leave(cancel_tasks=True)
            self.enter(self.definition.joins[step.id].target)


# -- the API -----------------------------------------------------------------------------------


def start(definition: WorkflowDefinition) -> Outcome:
    """A new case in the definition's initial step (its clocks started, its tasks opened)."""
    run = _Run(definition, CaseState(definition.key, definition.version, definition.initial_step))
    run.enter(definition.initial_step)
    return Outcome(run.state(), tuple(run.effects), START, None, run.step)


def available_actions(
    definition: WorkflowDefinition, state: CaseState, actor: Actor, ticket_fields: Mapping[str, object]
) -> list[ActionOption]:
    """What this actor may do now. Guards on inputs are checked only when the action is applied."""
    step = _current(definition, state)
    if state.finished:
        return []
    options: list[ActionOption] = []
    for t in definition.transitions_from(step.id):
        if any(o.action == t.action for o in options) or not _permits(t, step, actor):
            continue
        if check_guards(t.guards, ticket_fields, None, state.action_counts) is None:
            required = t.inputs + tuple(f for f in _fields_to_leave(t, step) if f not in t.inputs and not is_present(ticket_fields.get(f)))
            options.append(ActionOption(t.action, t.name, _target(t, state), required))
    if step.tasks is not None and not state.suspended:
        open_tasks = state.open_tasks
        mine = [t for t in open_tasks if actor.may_handle(t)]
        last = definition.joins[step.id].target if len(open_tasks) == 1 else step.id
        if mine:
            ids = tuple(t.task_id for t in mine)
            options.append(ActionOption(COMPLETE_TASK, "Complete task", last, step.tasks.required_fields, True, ids))
        returnable = tuple(t.task_id for t in mine if not t.lead)
        if returnable:
            options.append(ActionOption(RETURN_TASK, "Return task", last, ("reason",), True, returnable))
    return options


def apply(
    definition: WorkflowDefinition,
    state: CaseState,
    action: str,
    actor: Actor,
    ticket_fields: Mapping[str, object],
    inputs: Mapping[str, object] | None = None,
    task_id: str | None = None,
) -> Outcome:
    """Apply one action, or raise ActionRefused saying why not."""
    step = _current(definition, state)
    inputs = dict(inputs or {})
    if state.finished:
        raise ActionRefused("finished", f"the case is finished (in step '{step.id}')")
    if action in (COMPLETE_TASK, RETURN_TASK):
        return _apply_task(definition, state, step, action, actor, inputs, task_id)
    candidates = [t for t in definition.transitions_from(step.id) if t.action == action]
    if not candidates:
        if action in definition.actions or action == JOIN:
            raise ActionRefused("not_allowed_in_step", f"'{action}' is not allowed in step '{step.id}'")
        raise ActionRefused("unknown_action", f"unknown action '{action}' in workflow {definition.ref}")
    permitted = [t for t in candidates if _permits(t, step, actor)]
    if not permitted:
        owners = "; ".join(sorted({str(t.by or step.owner) for t in candidates}))
        raise ActionRefused("forbidden", f"{actor} may not '{action}' in step '{step.id}' (allowed: {owners})")
    refusal: ActionRefused | None = None
    for t in permitted:
        missing = _missing(t, step, ticket_fields, inputs)
        failure = check_guards(t.guards, ticket_fields, inputs, state.action_counts)
        if not missing and failure is None:
            run = _Run(definition, state)
            run.take(t, ticket_fields, inputs)
            return Outcome(run.state(), tuple(run.effects), action, step.id, run.step, None, t)
        if refusal is None:
            refusal = (
                ActionRefused("missing_fields", "; ".join(missing.values()), missing)
                if missing
                else ActionRefused("guard_failed", str(failure))
            )
    raise cast(ActionRefused, refusal)


def with_task_department(state: CaseState, task_id: str, department_ref: str) -> CaseState:
    """Record which department routing gave a countersign task."""
    if task_id not in state.tasks:
        raise KeyError(task_id)
    return replace(state, tasks={**state.tasks, task_id: replace(state.tasks[task_id], department_ref=department_ref)})


def _current(definition: WorkflowDefinition, state: CaseState) -> Step:
    if (state.definition_key, state.definition_version) != (definition.key, definition.version):
        raise ValueError(f"the case runs {state.definition_key}@v{state.definition_version}, not {definition.ref}")
    if state.step not in definition.steps:
        raise ValueError(f"{definition.ref} has no step '{state.step}'")
    if (state.step in definition.suspension_steps) != state.suspended:
        raise ValueError(f"the case is in step '{state.step}' but its suspension record says {state.suspended_from!r}")
    return definition.steps[state.step]


def _permits(transition: Transition, step: Step, actor: Actor) -> bool:
    owner: Owner | None = transition.by or step.owner
    return owner is not None and owner.allows(actor.functions, actor.role)


def _target(transition: Transition, state: CaseState) -> str:
    if transition.resumes and state.suspended_from is not None:
        return state.suspended_from
    return transition.target or state.step


def _fields_to_leave(transition: Transition, step: Step) -> tuple[str, ...]:
    """The step's required fields, unless the action stays, suspends or is exempt."""
    if transition.stay or transition.suspends or transition.action in step.not_required_for:
        return ()
    return step.required_fields


def _missing(transition: Transition, step: Step, fields: Mapping[str, object], inputs: Mapping[str, object]) -> dict[str, str]:
    missing = {
        name: f"field '{name}' is required for '{transition.action}'" for name in transition.inputs if not is_present(inputs.get(name))
    }
    for name in _fields_to_leave(transition, step):
        if name not in missing and not is_present(inputs.get(name)) and not is_present(fields.get(name)):
            missing[name] = f"field '{name}' is required to leave '{step.id}'"
    return missing


def _apply_task(
    definition: WorkflowDefinition,
    state: CaseState,
    step: Step,
    action: str,
    actor: Actor,
    inputs: Mapping[str, object],
    task_id: str | None,
) -> Outcome:
    if step.tasks is None:
        raise ActionRefused("not_allowed_in_step", f"'{action}' is not allowed in step '{step.id}' (it has no department tasks)")
    returning = action == RETURN_TASK
    if task_id is None:
        mine = [t for t in state.open_tasks if actor.may_handle(t) and not (returning and t.lead)]
        if len(mine) != 1:
            code, verb = (
                ("task_required", "choose one of " + ", ".join(t.task_id for t in mine)) if mine else ("forbidden", "no open task is yours")
            )
            raise ActionRefused(code, f"'{action}' needs a task: {verb}")
        task = mine[0]
    else:
        found = state.tasks.get(task_id)
        if found is None:
            raise ActionRefused("unknown_task", f"step '{step.id}' has no task '{task_id}'")
        task = found
    if task.status != "open":
        raise ActionRefused("task_closed", f"task '{task.task_id}' is already {task.status}")
    if not actor.may_handle(task):
        raise ActionRefused("forbidden", f"{actor} may not act on task '{task.task_id}' of {task.function}")
    if returning and task.lead:
        raise ActionRefused("forbidden", f"the lead task '{task.task_id}' cannot be returned; the lead returns the whole case instead")
    required = ("reason",) if returning else step.tasks.required_fields
    missing = {name: f"field '{name}' is required for '{action}'" for name in required if not is_present(inputs.get(name))}
    if missing:
        raise ActionRefused("missing_fields", "; ".join(missing.values()), missing)
    run = _Run(definition, state)
    run.counts[action] = run.counts.get(action, 0) + 1
    run.close_task(task, "returned" if returning else "done")
    if returning:
        run.effects.append(Notify(TASK_RETURNED, step.tasks.lead, task.task_id))
    run.join_if_done()
    return Outcome(run.state(), tuple(run.effects), action, step.id, run.step, task.task_id)
