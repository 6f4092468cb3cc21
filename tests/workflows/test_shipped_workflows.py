"""The shipped workflows, walked through every transition, plus the paths the desk cares about most."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.definition_loader import shipped_registry
from workflows.definitions import COMPLETE_TASK, RETURN_TASK, AnyOf, Condition, Guard, Step, Transition, WorkflowDefinition
from workflows.engine import (
    ActionRefused,
    Actor,
    CaseFinished,
    CaseState,
    ClockPaused,
    ClockResumed,
    ClockStarted,
    ClockStopped,
    Effect,
    Notify,
    Outcome,
    StepEntered,
    StepLeft,
    TargetExtended,
    TaskClosed,
    TaskOpened,
    apply,
    available_actions,
    start,
)

REGISTRY = shipped_registry()
DEFINITIONS = {d.key: d for d in REGISTRY}


# -- making moves that satisfy a transition ------------------------------------------------------


def satisfying(guard: Guard) -> object:
    """A value for the guard's field or input that makes it hold."""
    if isinstance(guard, AnyOf):
        return satisfying(guard.options[0])
    value = guard.value
    if guard.op in ("eq", "le", "ge"):
        return value
    if guard.op == "in":
        return value[0]  # type: ignore[index]
    if guard.op == "contains":
        return [value]
    if guard.op == "lt":
        return value - 1 if isinstance(value, int | float) else ""  # type: ignore[operator]
    if guard.op == "gt":
        return value + 1 if isinstance(value, int | float) else f"{value}~"  # type: ignore[operator]
    if guard.op == "absent":
        return None
    return "given"  # present, ne, not_in


def guard_values(guards: tuple[Guard, ...], source: str) -> dict[str, object]:
    values = {}
    for guard in guards:
        condition = guard.options[0] if isinstance(guard, AnyOf) else guard
        if isinstance(condition, Condition) and condition.source == source:
            values[condition.name] = satisfying(guard)
    return values


@dataclass(frozen=True)
class Move:
    action: str
    actor: Actor
    fields: Mapping[str, object]
    inputs: Mapping[str, object]
    task_id: str | None = None
    transition: Transition | None = field(default=None, compare=False)

    def apply(self, definition: WorkflowDefinition, state: CaseState) -> Outcome:
        return apply(definition, state, self.action, self.actor, self.fields, self.inputs, self.task_id)


def move_for(transition: Transition, step: Step) -> Move:
    owner = transition.by or step.owner
    assert owner is not None
    actor = Actor("tester", sorted(owner.roles)[0] if owner.roles else "agent", owner.functions)
    fields: dict[str, object] = dict.fromkeys(step.required_fields, "given")
    fields.update(guard_values(transition.guards, "field"))
    inputs: dict[str, object] = dict.fromkeys(transition.inputs, "given")
    inputs.update(guard_values(transition.guards, "input"))
    return Move(transition.action, actor, fields, inputs, transition=transition)


def moves(definition: WorkflowDefinition, state: CaseState) -> list[Move]:
    """One move per transition out of the current step and per task action on each open task."""
    step = definition.step(state.step)
    found = [move_for(t, step) for t in definition.transitions_from(step.id)]
    if step.tasks is not None and not state.suspended:
        for task in state.open_tasks:
            actor = Actor("tester", "agent", frozenset({task.function}))
            found.append(Move(COMPLETE_TASK, actor, {}, dict.fromkeys(step.tasks.required_fields, "given"), task.task_id))
            if not task.lead:
                found.append(Move(RETURN_TASK, actor, {}, {"reason": "given"}, task.task_id))
    return found


# -- exploring every state a definition can reach ------------------------------------------------


def state_key(state: CaseState) -> tuple[object, ...]:
    tasks = tuple(sorted((t.function, t.status) for t in state.tasks.values()))
    return state.step, state.suspended_from, tasks, state.finished


@functools.cache
def explore(key: str) -> dict[tuple[object, ...], tuple[CaseState, tuple[Move, ...]]]:
    """Breadth first: every distinct state with the shortest path of moves that reaches it."""
    definition = DEFINITIONS[key]
    first = start(definition).state
    seen = {state_key(first): (first, ())}
    queue = deque([first])
    while queue:
        state = queue.popleft()
        path = seen[state_key(state)][1]
        for move in moves(definition, state):
            try:
                outcome = move.apply(definition, state)
            except ActionRefused:
                continue
            if state_key(outcome.state) not in seen:
                seen[state_key(outcome.state)] = (outcome.state, (*path, move))
                queue.append(outcome.state)
    return seen


def replay(definition: WorkflowDefinition, path: tuple[Move, ...]) -> CaseState:
    state = start(definition).state
    for move in path:
        state = move.apply(definition, state).state
    return state


TRANSITIONS = [
    pytest.param(d.key, index, source, id=f"{d.key}:{t.action}@{source}:line{t.line}")
    for d in REGISTRY
    for index, t in enumerate(d.transitions)
    for source in t.sources
]


@pytest.mark.parametrize(("key", "index", "source"), TRANSITIONS)
def test_every_transition_can_be_taken(key: str, index: int, source: str) -> None:
    definition = DEFINITIONS[key]
    transition = definition.transitions[index]
    for state, path in explore(key).values():
        if state.step != source:
            continue
        move = move_for(transition, definition.step(source))
        try:
            outcome = move.apply(definition, replay(definition, path))
        except ActionRefused:
            continue
        assert outcome.transition is transition
        assert transition.action in [o.action for o in available_actions(definition, state, move.actor, move.fields)]
        check_transition_effects(definition, state, outcome, move)
        return
    pytest.fail(f"no reachable state lets {key} take '{transition.action}' from '{source}' (line {transition.line})")


def check_transition_effects(definition: WorkflowDefinition, before: CaseState, outcome: Outcome, move: Move) -> None:
    transition = outcome.transition
    assert transition is not None
    effects = outcome.effects
    if transition.stay:
        assert outcome.to_step == before.step
        assert not any(isinstance(e, StepEntered | StepLeft) for e in effects)
    elif transition.suspends:
        assert outcome.state.suspended_from == before.step and outcome.to_step == transition.target
        running = {k for k, status in before.clocks.items() if status == "running"}
        assert {k for k, status in outcome.state.clocks.items() if status == "paused"} >= running
        assert "running" not in outcome.state.clocks.values()
    elif transition.resumes:
        assert outcome.to_step == before.suspended_from and not outcome.state.suspended
        assert all(outcome.state.clocks[k] == "running" for k in before.paused_by_suspend)
        assert any(isinstance(e, ClockResumed) for e in effects) == bool(before.paused_by_suspend)
    else:
        assert effects[0] == StepLeft(before.step) and StepEntered(transition.target) in effects  # type: ignore[arg-type]
        joined = definition.step(transition.target).is_final  # type: ignore[arg-type]
        assert (effects[-1] == CaseFinished(transition.target)) is joined  # type: ignore[arg-type]
    if transition.extends is not None:
        assert TargetExtended(transition.extends.clock, until=move.inputs.get(transition.extends.until or "")) in effects
    if transition.notify is not None:
        assert Notify(transition.notify.kind, transition.notify.target) in effects


@pytest.mark.parametrize("key", sorted(DEFINITIONS))
def test_exploration_reaches_every_step_and_every_join(key: str) -> None:
    definition = DEFINITIONS[key]
    reached = {state.step for state, _ in explore(key).values()}
    assert reached == set(definition.steps)
    assert any(state.finished for state, _ in explore(key).values())


# -- the paths the desk cares about --------------------------------------------------------------


class Walk:
    """Drives one case by action names with the right actor and satisfying fields, keeping the effects."""

    def __init__(self, key: str) -> None:
        self.definition = DEFINITIONS[key]
        outcome = start(self.definition)
        self.state, self.effects = outcome.state, list(outcome.effects)

    def do(self, action: str, **inputs: object) -> Outcome:
        step = self.definition.step(self.state.step)
        candidates = [t for t in self.definition.transitions_from(step.id) if t.action == action]
        assert candidates, f"no '{action}' from '{step.id}'"
        move = move_for(candidates[0], step)
        outcome = apply(self.definition, self.state, action, move.actor, {**move.fields, "overdue": True}, {**move.inputs, **inputs})
        self.state, self.effects = outcome.state, [*self.effects, *outcome.effects]
        return outcome

    def task(self, function: str, action: str = COMPLETE_TASK, **inputs: object) -> Outcome:
        actor = Actor("tester", "agent", frozenset({function}))
        outcome = apply(self.definition, self.state, action, actor, {}, {"task_opinion": "ok", "reason": "r", **inputs})
        self.state, self.effects = outcome.state, [*self.effects, *outcome.effects]
        return outcome


def test_complaint_main_line_with_every_clock() -> None:
    walk = Walk("complaint")
    for action in ["forward", "dispatch", "acknowledge", "complete_handling", "submit_reply", "approve"]:
        walk.do(action)
    assert walk.state.step == "follow_up"
    walk.do("close", satisfaction="satisfied")
    finished = walk.do("archive")
    assert finished.effects[-1] == CaseFinished("archived") and walk.state.finished
    started = [e.clock for e in walk.effects if isinstance(e, ClockStarted)]
    assert started == ["first_response", "resolution", "acknowledge", "handling", "review", "follow_up"]
    assert set(walk.state.clocks.values()) == {"stopped"}
    statuses = [walk.definition.step(e.step).status for e in walk.effects if isinstance(e, StepEntered)]
    assert statuses == ["new", "open", "open", "open", "open", "solved", "solved", "closed", "closed"]


def test_complaint_suspension_pauses_the_clocks_that_run() -> None:
    walk = Walk("complaint")
    for action in ["forward", "dispatch", "acknowledge"]:
        walk.do(action)
    suspended = walk.do("suspend", reason="waiting for the housing office")
    assert [e for e in suspended.effects if isinstance(e, ClockPaused)] == [ClockPaused("resolution"), ClockPaused("handling")]
    assert walk.state.step == "suspended" and walk.definition.step("suspended").status == "on_hold"
    assert "urge" not in [
        o.action for o in available_actions(walk.definition, walk.state, Actor("d", "agent", frozenset({"dispatcher"})), {})
    ]
    resumed = walk.do("resume")
    assert [e for e in resumed.effects if isinstance(e, ClockResumed)] == [ClockResumed("resolution"), ClockResumed("handling")]
    assert walk.state.step == "handle"


def test_complaint_extension_moves_the_handling_target_at_most_twice() -> None:
    walk = Walk("complaint")
    for action in ["forward", "dispatch", "acknowledge"]:
        walk.do(action)
    walk.do("request_extension", extension_until="2031-03-01T18:00:00+08:00", reason="site survey")
    assert walk.state.step == "extension_review" and walk.state.clocks["handling"] == "running"
    approved = walk.do("approve_extension", extension_until="2031-03-01T18:00:00+08:00")
    assert TargetExtended("handling", until="2031-03-01T18:00:00+08:00") in approved.effects
    assert walk.state.step == "handle" and walk.state.extensions == 1
    assert not any(isinstance(e, ClockStarted) for e in approved.effects)  # the handling clock runs on
    walk.do("request_extension")
    rejected = walk.do("reject_extension")
    assert not any(isinstance(e, TargetExtended) for e in rejected.effects)
    walk.do("request_extension")
    walk.do("approve_extension")
    with pytest.raises(ActionRefused, match="a complaint can be extended at most twice"):
        walk.do("request_extension")


def test_complaint_return_is_reviewed_by_the_dispatcher() -> None:
    walk = Walk("complaint")
    walk.do("forward")
    walk.do("dispatch", department="housing")
    with pytest.raises(ActionRefused) as caught:
        apply(walk.definition, walk.state, "return", Actor("h", "agent", frozenset({"case_department"})), {})
    assert caught.value.field_errors == {"reason": "field 'reason' is required for 'return'"}
    returned = walk.do("return", reason="this is a water supply matter")
    assert ClockStopped("acknowledge") in returned.effects and walk.state.step == "return_review"
    walk.do("redispatch", department="water")
    assert walk.state.step == "acknowledge" and walk.state.clocks["acknowledge"] == "running"


def test_complaint_urge_and_supervise_do_not_move_the_case() -> None:
    walk = Walk("complaint")
    for action in ["forward", "dispatch", "acknowledge"]:
        walk.do(action)
    assert walk.do("urge").effects == (Notify("urge", "case_department"),)
    supervisor = Actor("s", "supervisor", frozenset())
    with pytest.raises(ActionRefused, match="only an overdue case can be supervised"):
        apply(walk.definition, walk.state, "supervise", supervisor, {"overdue": False}, {"reason": "late"})
    agent = Actor("a", "agent", frozenset({"dispatcher"}))
    assert "supervise" not in [o.action for o in available_actions(walk.definition, walk.state, agent, {"overdue": True})]
    assert "supervise" in [o.action for o in available_actions(walk.definition, walk.state, supervisor, {"overdue": True})]
    supervised = apply(walk.definition, walk.state, "supervise", supervisor, {"overdue": True}, {"reason": "late"})
    assert supervised.effects == (Notify("supervise", "case_department"),) and supervised.to_step == "handle"


def test_complaint_reopen_from_follow_up_and_closed() -> None:
    walk = Walk("complaint")
    for action in ["forward", "dispatch", "acknowledge", "complete_handling", "submit_reply", "approve"]:
        walk.do(action)
    with pytest.raises(ActionRefused, match="only a dissatisfied customer reopens a case"):
        walk.do("reopen", satisfaction="satisfied")
    reopened = walk.do("reopen", satisfaction="dissatisfied", reason="the leak is back")
    assert walk.state.step == "handle"
    assert [e for e in reopened.effects if isinstance(e, ClockStarted | ClockStopped)] == [
        ClockStopped("follow_up"),
        ClockStarted("resolution", None, walk.definition.clocks["resolution"].target),
        ClockStarted("handling", None, walk.definition.clocks["handling"].target),
    ]
    for action in ["complete_handling", "submit_reply", "approve"]:
        walk.do(action)
    walk.do("close", satisfaction="dissatisfied")  # dissatisfied, but not for the department's reasons
    assert walk.state.step == "closed"
    walk.do("reopen", reason="supervisor review")
    assert walk.state.step == "handle" and walk.state.action_counts["reopen"] == 2
    for action in ["complete_handling", "submit_reply", "approve"]:
        walk.do(action)
    with pytest.raises(ActionRefused, match="reopened at most twice"):
        walk.do("reopen", satisfaction="dissatisfied")


def test_complaint_direct_answer_closes_at_once() -> None:
    walk = Walk("complaint")
    walk.do("direct_answer", answer_text="the office opens at 9")
    assert walk.state.step == "closed" and set(walk.state.clocks.values()) == {"stopped"}


def test_billing_dispute_joins_only_when_billing_and_finance_are_done() -> None:
    walk = Walk("billing_dispute")
    opened = walk.do("open_dispute")
    assert [e.function for e in opened.effects if isinstance(e, TaskOpened)] == ["billing", "finance"]
    task_clocks = [e for e in opened.effects if isinstance(e, ClockStarted) and e.task_id]
    assert len(task_clocks) == 2 and {str(e.target) for e in task_clocks} == {"3 business days"}
    walk.task("billing")
    assert walk.state.step == "investigation" and [t.function for t in walk.state.open_tasks] == ["finance"]
    joined = walk.task("finance")
    assert walk.state.step == "decision" and walk.state.tasks == {}
    assert joined.effects[2:4] == (StepLeft("investigation"), StepEntered("decision"))


def test_billing_dispute_large_adjustments_need_a_supervisor() -> None:
    walk = Walk("billing_dispute")
    walk.do("open_dispute")
    returned = walk.task("finance", RETURN_TASK, reason="no payment involved")
    assert returned.effects[-1] == Notify("task_returned", "billing", returned.task_id)
    assert walk.state.step == "investigation"  # billing, the lead, still works on it
    walk.task("billing")
    agent = Actor("b", "agent", frozenset({"billing"}))
    supervisor = Actor("s", "supervisor", frozenset({"billing"}))
    with pytest.raises(ActionRefused, match="an adjustment above 500 needs a billing supervisor"):
        apply(walk.definition, walk.state, "approve_adjustment", agent, {}, {"adjustment_amount": 900})
    assert apply(walk.definition, walk.state, "approve_adjustment", agent, {}, {"adjustment_amount": 120}).to_step == "reply"
    assert apply(walk.definition, walk.state, "approve_adjustment", supervisor, {}, {"adjustment_amount": 900}).to_step == "reply"


def test_billing_dispute_recheck_opens_a_new_round() -> None:
    walk = Walk("billing_dispute")
    walk.do("open_dispute")
    walk.task("billing")
    walk.task("finance")
    walk.do("recheck", reason="new statement")
    assert walk.state.step == "investigation" and len(walk.state.open_tasks) == 2
    assert {t.task_id for t in walk.state.open_tasks} == {"investigation.billing.3", "investigation.finance.4"}


def test_fault_repair_hand_back_between_field_service_and_network_operations() -> None:
    walk = Walk("fault_repair")
    walk.do("send_to_network")
    walk.do("send_field_service", visit_address="5 Station Rd")
    assert walk.definition.step(walk.state.step).owner.functions == {"field_service"}  # type: ignore[union-attr]
    handed = walk.do("hand_back", reason="the fault is at the exchange")
    assert walk.state.step == "diagnose"
    assert ClockStarted("diagnosis", None, walk.definition.clocks["diagnosis"].target) in handed.effects
    assert ClockStopped("field_visit") in handed.effects
    walk.do("send_field_service", visit_address="5 Station Rd")
    walk.do("customer_unavailable", reason="not at home")
    assert "running" not in walk.state.clocks.values()
    walk.do("appointment_made")
    walk.do("repair_done")
    walk.do("confirm_fixed", satisfaction="satisfied")
    assert walk.state.finished


def test_general_enquiry_waits_for_the_customer() -> None:
    walk = Walk("general_enquiry")
    walk.do("accept")
    waiting = walk.do("wait_for_customer", question="which number?")
    assert waiting.effects[1:2] == (ClockPaused("resolution"),) and walk.definition.step(walk.state.step).status == "pending"
    walk.do("customer_replied")
    walk.do("close")
    assert walk.state.finished


# -- random walks never reach an invalid state ---------------------------------------------------


def check_invariants(definition: WorkflowDefinition, state: CaseState) -> None:
    step = definition.step(state.step)
    assert state.finished == step.is_final
    if state.finished:
        assert not state.open_tasks and set(state.clocks.values()) <= {"stopped"}
    if state.suspended:
        assert state.step in definition.suspension_steps and state.suspended_from in definition.steps
        assert "running" not in state.clocks.values()
        assert set(state.paused_by_suspend) <= {k for k, status in state.clocks.items() if status == "paused"}
    else:
        assert state.step not in definition.suspension_steps and not state.paused_by_suspend
    home = definition.step(state.suspended_from or state.step)
    if home.tasks is not None and not state.finished:
        assert state.open_tasks, "a countersign step with every task closed should have joined"
    elif state.tasks:
        pytest.fail(f"tasks outside a countersign step: {state.tasks}")
    assert all(key.partition("@")[0] in definition.clocks for key in state.clocks)
    assert CaseState.from_dict(state.to_dict()) == state


def replay_effects(clocks: dict[str, str], tasks: set[str], effects: tuple[Effect, ...]) -> None:
    for effect in effects:
        if isinstance(effect, ClockStarted | ClockResumed):
            clocks[f"{effect.clock}@{effect.task_id}" if effect.task_id else effect.clock] = "running"
        elif isinstance(effect, ClockPaused):
            clocks[f"{effect.clock}@{effect.task_id}" if effect.task_id else effect.clock] = "paused"
        elif isinstance(effect, ClockStopped):
            clocks[f"{effect.clock}@{effect.task_id}" if effect.task_id else effect.clock] = "stopped"
        elif isinstance(effect, TaskOpened):
            tasks.add(effect.task_id)
        elif isinstance(effect, TaskClosed):
            tasks.discard(effect.task_id)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(DEFINITIONS)), choices=st.lists(st.integers(min_value=0, max_value=1000), max_size=40))
def test_random_walks_keep_the_state_valid_and_the_effects_faithful(key: str, choices: list[int]) -> None:
    definition = DEFINITIONS[key]
    outcome = start(definition)
    state = outcome.state
    clocks: dict[str, str] = {}
    tasks: set[str] = set()
    replay_effects(clocks, tasks, outcome.effects)
    for choice in choices:
        options = moves(definition, state)
        if not options:
            break
        move = options[choice % len(options)]
        listed = [o.action for o in available_actions(definition, state, move.actor, move.fields)]
        try:
            outcome = move.apply(definition, state)
        except ActionRefused as refusal:
            assert refusal.code in {"guard_failed", "missing_fields"}, refusal.message
            continue
        assert move.action in listed
        replay_effects(clocks, tasks, outcome.effects)
        state = outcome.state
        check_invariants(definition, state)
        # What the effects told the service layer is what the state says.
        assert {k: v for k, v in clocks.items() if k in state.clocks} == dict(state.clocks)
        assert all(v == "stopped" for k, v in clocks.items() if k not in state.clocks)
        assert tasks == {t.task_id for t in state.open_tasks}
