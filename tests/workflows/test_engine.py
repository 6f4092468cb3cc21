"""The case engine on a small workflow: who may act, required fields, guards, clocks, tasks, refusals."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from workflows.definition_loader import load_definition
from workflows.definitions import Duration, WorkflowDefinition
from workflows.engine import (
    ActionRefused,
    Actor,
    CaseFinished,
    CaseState,
    ClockPaused,
    ClockResumed,
    ClockStarted,
    ClockStopped,
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
    with_task_department,
)

MINI = """\
key: mini
version: 1
initial_step: intake
clocks:
  resolution: {target: 2 business days}
  handling: {}
  task: {target: 4 hours}
steps:
  - id: intake
    owner: front_line
    clocks: {start: [resolution]}
  - id: handle
    owner: case_department
    clocks: {start: [handling]}
    required_fields: [reply_text]
    not_required_for: [give_back]
  - id: waiting
    owner: case_department
  - id: countersign
    kind: countersign
    clocks: {stop: [handling]}
    tasks: {lead: billing, co_handlers: [finance], clock: task, required_fields: [opinion]}
  - id: done
    kind: final
transitions:
  - action: send
    from: intake
    to: handle
    inputs: [department]
  - action: fast_track
    from: intake
    to: done
    guards:
      - {field: priority, op: in, value: [high, urgent]}
  - action: give_back
    from: handle
    to: intake
    inputs: [reason]
  - action: extend
    from: handle
    stay: true
    by: {functions: [dispatcher]}
    inputs: [until]
    extends: {clock: handling, until: until}
    guards:
      - {count: extend, op: lt, value: 1, message: one extension only}
  - action: supervise
    from: [handle, countersign]
    stay: true
    by: {roles: [supervisor]}
    notify: {kind: supervise, target: case_department}
  - action: wait
    from: [handle, countersign]
    to: waiting
    suspends: true
  - action: go_on
    from: waiting
    resumes: true
  - action: abandon
    from: waiting
    to: done
  - action: countersign
    from: handle
    to: countersign
  - action: settle
    from: handle
    to: done
    inputs: [amount]
    guards:
      - {input: amount, op: le, value: 100, message: above 100 needs a supervisor}
  - action: settle
    from: handle
    to: done
    by: {functions: [case_department], roles: [supervisor]}
    inputs: [amount]
  - action: cancel
    from: countersign
    to: handle
    by: [billing, finance]
  - join: countersign
    to: done
"""

FRONT = Actor("a1", "agent", frozenset({"front_line"}))
DEPT = Actor("a2", "agent", frozenset({"case_department"}))
DEPT_SUPERVISOR = Actor("s1", "supervisor", frozenset({"case_department"}))
DISPATCHER = Actor("d1", "agent", frozenset({"dispatcher"}))
BILLING = Actor("b1", "agent", frozenset({"billing"}))
FINANCE = Actor("f1", "agent", frozenset({"finance"}))


@pytest.fixture(scope="module")
def mini() -> WorkflowDefinition:
    return load_definition(MINI, "mini.yaml")


def actions(definition: WorkflowDefinition, state: CaseState, actor: Actor, fields: Mapping[str, object] | None = None) -> list[str]:
    return [o.action for o in available_actions(definition, state, actor, fields or {})]


def in_handle(mini: WorkflowDefinition) -> CaseState:
    return apply(mini, start(mini).state, "send", FRONT, {}, {"department": "d7"}).state


def refused(*args: object, **kwargs: object) -> ActionRefused:
    with pytest.raises(ActionRefused) as caught:
        apply(*args, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_start_enters_the_initial_step_and_starts_its_clocks(mini: WorkflowDefinition) -> None:
    outcome = start(mini)
    assert outcome.effects == (StepEntered("intake"), ClockStarted("resolution", None, Duration(2, "days", True)))
    assert outcome.state.step == "intake" and outcome.state.clocks == {"resolution": "running"}
    assert (outcome.action, outcome.from_step, outcome.to_step) == ("start", None, "intake")


def test_available_actions_follow_owner_functions_and_roles(mini: WorkflowDefinition) -> None:
    state = start(mini).state
    assert actions(mini, state, FRONT) == ["send"]
    assert actions(mini, state, DEPT) == []
    handle = in_handle(mini)
    assert actions(mini, handle, DEPT) == ["give_back", "wait", "countersign", "settle"]
    assert actions(mini, handle, DEPT_SUPERVISOR) == ["give_back", "supervise", "wait", "countersign", "settle"]
    assert actions(mini, handle, DISPATCHER) == ["extend"]
    assert actions(mini, handle, FRONT) == []


def test_field_guards_hide_actions_and_count_guards_too(mini: WorkflowDefinition) -> None:
    state = start(mini).state
    assert "fast_track" not in actions(mini, state, FRONT, {"priority": "low"})
    assert "fast_track" in actions(mini, state, FRONT, {"priority": "urgent"})
    handle = in_handle(mini)
    extended = apply(mini, handle, "extend", DISPATCHER, {}, {"until": "2030-01-01"}).state
    assert actions(mini, extended, DISPATCHER) == []


def test_required_fields_list_inputs_and_missing_step_fields(mini: WorkflowDefinition) -> None:
    handle = in_handle(mini)
    options = {o.action: o for o in available_actions(mini, handle, DEPT, {})}
    assert options["give_back"].required_fields == ("reason",)  # exempt from the step's reply_text
    assert options["wait"].required_fields == ()  # suspending never needs the step's fields
    assert options["countersign"].required_fields == ("reply_text",)
    assert options["settle"].required_fields == ("amount", "reply_text")
    assert options["settle"].target_step == "done"
    present = {o.action: o for o in available_actions(mini, handle, DEPT, {"reply_text": "done"})}
    assert present["countersign"].required_fields == ()


def test_refusals_say_why(mini: WorkflowDefinition) -> None:
    state = start(mini).state
    error = refused(mini, state, "give_back", DEPT, {}, {"reason": "x"})
    assert (error.code, error.message) == ("not_allowed_in_step", "'give_back' is not allowed in step 'intake'")
    error = refused(mini, state, "teleport", FRONT, {})
    assert (error.code, error.message) == ("unknown_action", "unknown action 'teleport' in workflow mini@v1")
    error = refused(mini, state, "send", DEPT, {}, {"department": "d7"})
    assert error.code == "forbidden"
    assert error.message == "'a2' (role agent; functions case_department) may not 'send' in step 'intake' (allowed: functions front_line)"
    error = refused(mini, state, "send", FRONT, {})
    assert (error.code, error.field_errors) == ("missing_fields", {"department": "field 'department' is required for 'send'"})
    error = refused(mini, state, "fast_track", FRONT, {"priority": "low"})
    assert (error.code, error.message) == ("guard_failed", "field 'priority' must be one of 'high', 'urgent' (it is 'low')")


def test_step_fields_are_required_to_leave_from_the_ticket_or_the_inputs(mini: WorkflowDefinition) -> None:
    handle = in_handle(mini)
    error = refused(mini, handle, "countersign", DEPT, {})
    assert error.message == "field 'reply_text' is required to leave 'handle'"
    assert error.field_errors == {"reply_text": "field 'reply_text' is required to leave 'handle'"}
    assert apply(mini, handle, "countersign", DEPT, {"reply_text": "on the ticket"}).to_step == "countersign"
    assert apply(mini, handle, "countersign", DEPT, {}, {"reply_text": "sent now"}).to_step == "countersign"
    assert apply(mini, handle, "give_back", DEPT, {}, {"reason": "not ours"}).to_step == "intake"


def test_input_guards_are_checked_on_apply_and_pick_the_transition(mini: WorkflowDefinition) -> None:
    handle = in_handle(mini)
    fields = {"reply_text": "ok"}
    small = apply(mini, handle, "settle", DEPT, fields, {"amount": 80})
    assert small.transition is not None and small.transition.by is None
    error = refused(mini, handle, "settle", DEPT, fields, {"amount": 800})
    assert (error.code, error.message) == ("guard_failed", "above 100 needs a supervisor")
    large = apply(mini, handle, "settle", DEPT_SUPERVISOR, fields, {"amount": 800})
    assert large.transition is not None and large.transition.by is not None and large.to_step == "done"


def test_stay_transitions_notify_and_extend_without_moving(mini: WorkflowDefinition) -> None:
    handle = in_handle(mini)
    outcome = apply(mini, handle, "supervise", DEPT_SUPERVISOR, {})
    assert outcome.effects == (Notify("supervise", "case_department"),)
    assert outcome.state.step == "handle" and outcome.state.action_counts["supervise"] == 1
    extended = apply(mini, handle, "extend", DISPATCHER, {}, {"until": "2030-01-01"})
    assert extended.effects == (TargetExtended("handling", until="2030-01-01"),)
    assert extended.state.extensions == 1
    error = refused(mini, extended.state, "extend", DISPATCHER, {}, {"until": "2030-02-01"})
    assert (error.code, error.message) == ("guard_failed", "one extension only")


def test_suspend_pauses_every_running_clock_and_resume_restores_them(mini: WorkflowDefinition) -> None:
    handle = in_handle(mini)
    assert handle.clocks == {"resolution": "running", "handling": "running"}
    suspended = apply(mini, handle, "wait", DEPT, {})
    assert suspended.effects == (StepLeft("handle"), ClockPaused("resolution"), ClockPaused("handling"), StepEntered("waiting"))
    assert suspended.state.suspended and suspended.state.suspended_from == "handle"
    assert set(suspended.state.clocks.values()) == {"paused"}
    assert [o.target_step for o in available_actions(mini, suspended.state, DEPT, {}) if o.action == "go_on"] == ["handle"]
    resumed = apply(mini, suspended.state, "go_on", DEPT, {})
    assert resumed.effects == (StepLeft("waiting"), ClockResumed("resolution"), ClockResumed("handling"), StepEntered("handle"))
    assert resumed.state.step == "handle" and not resumed.state.suspended
    assert resumed.state.clocks == handle.clocks


def test_leaving_a_suspension_another_way_still_resumes_then_finishes(mini: WorkflowDefinition) -> None:
    suspended = apply(mini, in_handle(mini), "wait", DEPT, {}).state
    outcome = apply(mini, suspended, "abandon", DEPT, {})
    assert outcome.effects[:3] == (StepLeft("waiting"), ClockResumed("resolution"), ClockResumed("handling"))
    assert outcome.effects[-3:] == (ClockStopped("resolution"), ClockStopped("handling"), CaseFinished("done"))
    assert outcome.state.finished and not outcome.state.suspended
    assert set(outcome.state.clocks.values()) == {"stopped"}


def test_finished_cases_take_no_actions(mini: WorkflowDefinition) -> None:
    done = apply(mini, start(mini).state, "fast_track", FRONT, {"priority": "high"}).state
    assert done.finished and available_actions(mini, done, FRONT, {}) == []
    assert refused(mini, done, "send", FRONT, {}, {"department": "x"}).code == "finished"


def in_countersign(mini: WorkflowDefinition) -> Outcome:
    return apply(mini, in_handle(mini), "countersign", DEPT, {"reply_text": "x"})


def test_countersign_opens_one_task_per_function_each_with_its_clock(mini: WorkflowDefinition) -> None:
    outcome = in_countersign(mini)
    assert outcome.effects == (
        StepLeft("handle"),
        StepEntered("countersign"),
        ClockStopped("handling"),
        TaskOpened("countersign.billing.1", "billing", True),
        ClockStarted("task", "countersign.billing.1", Duration(4, "hours")),
        TaskOpened("countersign.finance.2", "finance", False),
        ClockStarted("task", "countersign.finance.2", Duration(4, "hours")),
    )
    state = outcome.state
    assert [t.task_id for t in state.open_tasks] == ["countersign.billing.1", "countersign.finance.2"]
    assert state.clocks["task@countersign.finance.2"] == "running"


def test_the_join_waits_for_every_task(mini: WorkflowDefinition) -> None:
    state = in_countersign(mini).state
    (finance_option,) = [o for o in available_actions(mini, state, FINANCE, {}) if o.action == "complete_task"]
    assert finance_option.needs_task and finance_option.task_ids == ("countersign.finance.2",)
    assert finance_option.required_fields == ("opinion",) and finance_option.target_step == "countersign"
    first = apply(mini, state, "complete_task", FINANCE, {}, {"opinion": "fine"})
    assert first.effects == (TaskClosed("countersign.finance.2", "finance", "done"), ClockStopped("task", "countersign.finance.2"))
    assert first.state.step == "countersign" and first.task_id == "countersign.finance.2"
    (billing_option,) = [o for o in available_actions(mini, first.state, BILLING, {}) if o.action == "complete_task"]
    assert billing_option.target_step == "done"
    second = apply(mini, first.state, "complete_task", BILLING, {}, {"opinion": "agreed"}, task_id="countersign.billing.1")
    assert second.effects[:4] == (
        TaskClosed("countersign.billing.1", "billing", "done"),
        ClockStopped("task", "countersign.billing.1"),
        StepLeft("countersign"),
        StepEntered("done"),
    )
    assert second.effects[-1] == CaseFinished("done")
    assert second.state.finished and second.state.tasks == {}


def test_task_actions_check_the_actor_the_task_and_the_fields(mini: WorkflowDefinition) -> None:
    state = in_countersign(mini).state
    assert refused(mini, state, "complete_task", FINANCE, {}).code == "missing_fields"
    assert refused(mini, state, "complete_task", DEPT, {}, {"opinion": "x"}).code == "forbidden"
    error = refused(mini, state, "complete_task", FINANCE, {}, {"opinion": "x"}, task_id="countersign.billing.1")
    assert error.code == "forbidden"
    assert refused(mini, state, "complete_task", FINANCE, {}, {"opinion": "x"}, task_id="nope").code == "unknown_task"
    both = Actor("x", "agent", frozenset({"billing", "finance"}))
    assert refused(mini, state, "complete_task", both, {}, {"opinion": "x"}).code == "task_required"
    limited = Actor("x", "agent", frozenset({"billing", "finance"}), task_ids=frozenset({"countersign.finance.2"}))
    assert apply(mini, state, "complete_task", limited, {}, {"opinion": "x"}).task_id == "countersign.finance.2"
    done = apply(mini, state, "complete_task", FINANCE, {}, {"opinion": "x"}).state
    error = refused(mini, done, "complete_task", FINANCE, {}, {"opinion": "x"}, task_id="countersign.finance.2")
    assert (error.code, error.message) == ("task_closed", "task 'countersign.finance.2' is already done")
    assert refused(mini, in_handle(mini), "complete_task", BILLING, {}).code == "not_allowed_in_step"


def test_a_co_handler_returns_its_task_and_the_lead_is_told(mini: WorkflowDefinition) -> None:
    state = in_countersign(mini).state
    assert [o.action for o in available_actions(mini, state, BILLING, {})] == ["wait", "cancel", "complete_task"]
    assert [o.action for o in available_actions(mini, state, FINANCE, {})] == ["cancel", "complete_task", "return_task"]
    assert refused(mini, state, "return_task", FINANCE, {}).field_errors == {"reason": "field 'reason' is required for 'return_task'"}
    returned = apply(mini, state, "return_task", FINANCE, {}, {"reason": "not finance"})
    assert returned.effects == (
        TaskClosed("countersign.finance.2", "finance", "returned"),
        ClockStopped("task", "countersign.finance.2"),
        Notify("task_returned", "billing", "countersign.finance.2"),
    )
    assert returned.state.tasks["countersign.finance.2"].status == "returned"
    error = refused(mini, state, "return_task", BILLING, {}, {"reason": "x"}, task_id="countersign.billing.1")
    assert error.code == "forbidden" and "lead task" in error.message
    joined = apply(mini, returned.state, "complete_task", BILLING, {}, {"opinion": "x"})
    assert joined.to_step == "done"


def test_leaving_a_countersign_cancels_open_tasks(mini: WorkflowDefinition) -> None:
    state = apply(mini, in_countersign(mini).state, "complete_task", FINANCE, {}, {"opinion": "x"}).state
    outcome = apply(mini, state, "cancel", BILLING, {}, {"reply_text": "x"})
    assert outcome.effects[:3] == (
        StepLeft("countersign"),
        TaskClosed("countersign.billing.1", "billing", "cancelled"),
        ClockStopped("task", "countersign.billing.1"),
    )
    assert outcome.state.step == "handle" and outcome.state.tasks == {}
    assert not any("@" in key for key in outcome.state.clocks)
    again = apply(mini, outcome.state, "countersign", DEPT, {"reply_text": "x"}).state
    assert [t.task_id for t in again.open_tasks] == ["countersign.billing.3", "countersign.finance.4"]


def test_suspending_a_countersign_keeps_its_tasks_and_pauses_their_clocks(mini: WorkflowDefinition) -> None:
    state = in_countersign(mini).state
    suspended = apply(mini, state, "wait", BILLING, {})
    assert ClockPaused("task", "countersign.billing.1") in suspended.effects
    assert len(suspended.state.open_tasks) == 2
    assert "complete_task" not in [o.action for o in available_actions(mini, suspended.state, FINANCE, {})]
    assert refused(mini, suspended.state, "complete_task", FINANCE, {}, {"opinion": "x"}).code == "not_allowed_in_step"
    resumed = apply(mini, suspended.state, "go_on", DEPT, {})
    assert resumed.state.step == "countersign" and resumed.state.clocks["task@countersign.billing.1"] == "running"


def test_state_round_trips_through_a_dict(mini: WorkflowDefinition) -> None:
    state = apply(mini, in_countersign(mini).state, "wait", BILLING, {}).state
    state = with_task_department(state, "countersign.finance.2", "dept-42")
    assert state.tasks["countersign.finance.2"].department_ref == "dept-42"
    assert CaseState.from_dict(state.to_dict()) == state
    with pytest.raises(ValueError, match="not a stored case state"):
        CaseState.from_dict({"step": "x"})
    with pytest.raises(ValueError, match="not a stored case state"):
        CaseState.from_dict({**state.to_dict(), "clocks": {"x": "melted"}})
    with pytest.raises(KeyError):
        with_task_department(state, "nope", "d")


def test_the_state_must_belong_to_the_definition(mini: WorkflowDefinition) -> None:
    state = start(mini).state
    other = load_definition(MINI.replace("version: 1", "version: 2"))
    with pytest.raises(ValueError, match="the case runs mini@v1, not mini@v2"):
        available_actions(other, state, FRONT, {})
    with pytest.raises(ValueError, match="has no step 'gone'"):
        apply(mini, CaseState("mini", 1, "gone"), "send", FRONT, {})
    with pytest.raises(ValueError, match="suspension record"):
        apply(mini, CaseState("mini", 1, "waiting"), "go_on", DEPT, {})


def test_apply_never_changes_the_given_state(mini: WorkflowDefinition) -> None:
    state = in_countersign(mini).state
    snapshot = state.to_dict()
    apply(mini, state, "complete_task", FINANCE, {}, {"opinion": "x"})
    apply(mini, state, "wait", BILLING, {})
    assert state.to_dict() == snapshot
