"""Workflow definitions: the YAML format, its validation (each problem names its line), guards, versions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from workflows.definition_loader import load_definition, load_directory, load_file, shipped_registry
from workflows.definitions import (
    AnyOf,
    Condition,
    DefinitionError,
    DefinitionRegistry,
    Duration,
    UnknownDefinition,
    check_guards,
    parse_duration,
)

# A small valid workflow; the invalid cases below each change one thing.
VALID = """\
key: demo
version: 1
name: Demo
initial_step: intake
clocks:
  resolution: {target: 3 business days}
  task: {target: 4 hours}
steps:
  - id: intake
    owner: front_line
    clocks: {start: [resolution]}
  - id: review
    owner: {functions: [dispatcher], roles: [supervisor]}
    required_fields: [summary]
    not_required_for: [park]
  - id: countersign
    kind: countersign
    tasks: {lead: billing, co_handlers: [finance], clock: task}
  - id: parked
    owner: dispatcher
  - id: done
    kind: final
transitions:
  - action: submit
    from: intake
    to: review
  - action: approve
    from: review
    to: countersign
    guards:
      - {field: priority, op: in, value: [high, urgent]}
  - action: approve
    from: review
    to: done
  - action: park
    from: review
    to: parked
    suspends: true
  - action: unpark
    from: parked
    resumes: true
  - join: countersign
    to: done
"""


def problems(text: str, source: str = "demo.yaml") -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(text, source)
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing needle."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def change(old: str, new: str, text: str = VALID) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def assert_problem(text: str, needle: str, message: str, occurrence: int = 1) -> None:
    expected = f"demo.yaml line {line_of(text, needle, occurrence)}: {message}"
    found = problems(text)
    assert expected in found, "\n".join(found)


# -- valid ---------------------------------------------------------------------------------------


def test_valid_definition_loads_with_everything_in_place() -> None:
    definition = load_definition(VALID, "demo.yaml")
    assert definition.ref == "demo@v1"
    assert list(definition.steps) == ["intake", "review", "countersign", "parked", "done"]
    review = definition.step("review")
    assert review.owner is not None and review.owner.functions == {"dispatcher"} and review.owner.roles == {"supervisor"}
    assert review.required_fields == ("summary",) and review.not_required_for == {"park"}
    countersign = definition.step("countersign")
    assert countersign.tasks is not None and countersign.tasks.functions == ("billing", "finance")
    assert countersign.owner is not None and countersign.owner.functions == {"billing"}  # defaults to the lead
    assert definition.joins["countersign"].target == "done"
    assert definition.clocks["resolution"].target == Duration(3, "days", business=True)
    assert definition.suspension_steps == {"parked"}
    assert [t.action for t in definition.transitions_from("review")] == ["approve", "approve", "park"]
    assert definition.functions == {"front_line", "dispatcher", "billing", "finance"}
    assert definition.step("intake").line == line_of(VALID, "- id: intake")


def test_owner_may_be_a_name_or_a_list() -> None:
    definition = load_definition(change("owner: front_line", "owner: [front_line, case_department]"))
    owner = definition.step("intake").owner
    assert owner is not None and owner.functions == {"front_line", "case_department"}
    assert owner.allows(frozenset({"case_department"}), "agent")
    assert not owner.allows(frozenset({"billing"}), "agent")


# -- invalid: each case names its line -----------------------------------------------------------


def test_dangling_target_names_the_line_and_suggests() -> None:
    text = change("to: countersign", "to: countersing")
    assert_problem(text, "to: countersing", "transition 'approve' goes to unknown step 'countersing' (did you mean 'countersign'?)")


def test_dangling_source() -> None:
    text = change("from: intake", "from: [intake, nowhere]")
    assert_problem(text, "from: [intake, nowhere]", "transition 'submit' comes from unknown step 'nowhere'")


def test_unreachable_step() -> None:
    text = change("  - id: done\n", "  - id: orphan\n    owner: dispatcher\n  - id: done\n")
    text = change("transitions:\n", "transitions:\n  - action: leave\n    from: orphan\n    to: done\n", text)
    assert_problem(text, "- id: orphan", "step 'orphan' is unreachable from 'intake'")


def test_join_without_fork() -> None:
    text = change("  - join: countersign\n    to: done\n", "  - join: countersign\n    to: done\n  - join: review\n    to: done\n")
    assert_problem(text, "- join: review", "a join from 'review', which is not a countersign step (a join without a fork)")


def test_countersign_without_join() -> None:
    text = change("  - join: countersign\n    to: done\n", "")
    assert_problem(text, "- id: countersign", "countersign step 'countersign' has no join (add '- join: countersign' with 'to:')")


def test_countersign_without_tasks() -> None:
    text = change("    tasks: {lead: billing, co_handlers: [finance], clock: task}\n", "    owner: billing\n")
    assert_problem(text, "- id: countersign", "countersign step 'countersign' has no tasks (name a lead and its co_handlers)")


def test_tasks_on_a_task_step() -> None:
    text = change("  - id: parked\n    owner: dispatcher\n", "  - id: parked\n    owner: dispatcher\n    tasks: {lead: billing}\n")
    assert_problem(text, "tasks: {lead: billing}", "step 'parked' has tasks but is not a countersign step")


def test_same_function_twice_among_tasks() -> None:
    text = change("co_handlers: [finance]", "co_handlers: [finance, billing]")
    assert_problem(text, "co_handlers: [finance, billing]", "step 'countersign' names function 'billing' twice among its tasks")


def test_second_join_for_one_countersign() -> None:
    text = change("  - join: countersign\n    to: done\n", "  - join: countersign\n    to: done\n  - join: countersign\n    to: intake\n")
    first = line_of(text, "- join: countersign")
    assert_problem(text, "- join: countersign", f"a second join from 'countersign' (the first is at line {first})", occurrence=2)


def test_duplicate_step_id() -> None:
    text = change("  - id: parked\n", "  - id: review\n    owner: dispatcher\n  - id: parked\n")
    first = line_of(text, "- id: review")
    assert_problem(text, "- id: review", f"duplicate step id 'review' (first at line {first})", occurrence=2)


def test_duplicate_yaml_key() -> None:
    text = change("name: Demo\n", "name: Demo\nname: Again\n")
    assert_problem(text, "name: Again", "duplicate key 'name'")


def test_unknown_guard_operator() -> None:
    text = change("op: in, value: [high, urgent]", "op: like, value: high")
    found = problems(text)
    line = line_of(text, "op: like")
    assert any(p.startswith(f"demo.yaml line {line}: unknown guard operator 'like' in transition 'approve'") for p in found), found


@pytest.mark.parametrize(
    ("guard", "message"),
    [
        ("{field: priority, op: in, value: high}", "guard operator 'in' in transition 'approve' needs a list of plain values"),
        (
            "{field: priority, input: x, op: eq, value: 1}",
            "a guard of transition 'approve' needs exactly one of 'field', 'input' or 'count'",
        ),
        ("{field: priority, op: present, value: 1}", "guard operator 'present' in transition 'approve' takes no value"),
        ("{field: priority, op: lt}", "guard operator 'lt' in transition 'approve' needs a value"),
        ("{field: priority, op: gt, value: [1]}", "guard operator 'gt' in transition 'approve' needs a number or text, not [1]"),
        ("{count: approve, op: lt, value: two}", "a count guard in transition 'approve' compares with a whole number, not 'two'"),
        ("{field: Priority, op: eq, value: 1}", "'field' of a guard of transition 'approve' must be a lower_case name, not 'Priority'"),
        ("{any: []}", "'any' of a guard of transition 'approve' is empty"),
        ("{field: priority, op: eq, value: 1, extra: 2}", "unknown key 'extra' in a guard of transition 'approve'"),
    ],
)
def test_guard_shapes(guard: str, message: str) -> None:
    text = change("{field: priority, op: in, value: [high, urgent]}", guard)
    assert_problem(text, guard, message)


@pytest.mark.parametrize("version", ['"1"', "1.5", "0", "true", "null"])
def test_version_must_be_a_whole_number(version: str) -> None:
    text = change("version: 1", f"version: {version}")
    found = problems(text)
    assert any(p.startswith("demo.yaml line 2: 'version' must be a whole number from 1") for p in found), found


def test_final_step_with_outgoing_transition() -> None:
    text = change("transitions:\n", "transitions:\n  - action: revive\n    from: done\n    to: intake\n")
    assert_problem(text, "from: done", "transition 'revive' leaves final step 'done'")


def test_step_with_no_way_out() -> None:
    text = change("  - id: done\n", "  - id: stuck\n    owner: dispatcher\n  - id: done\n")
    text = change("transitions:\n", "transitions:\n  - action: jam\n    from: intake\n    to: stuck\n", text)
    assert_problem(text, "- id: stuck", "step 'stuck' has no way out: it is not final and no transition leaves it")


def test_cycle_that_never_finishes() -> None:
    text = change("  - id: done\n", "  - id: ping\n    owner: dispatcher\n  - id: pong\n    owner: dispatcher\n  - id: done\n")
    loop = "  - action: to_ping\n    from: [intake, pong]\n    to: ping\n  - action: to_pong\n    from: ping\n    to: pong\n"
    text = change("transitions:\n", "transitions:\n" + loop, text)
    assert_problem(text, "- id: ping", "step 'ping' can never reach a final step")


def test_no_final_step() -> None:
    text = change("  - id: done\n    kind: final\n", "  - id: done\n    owner: dispatcher\n")
    assert_problem(text, "steps:", "the workflow has no final step")


def test_unknown_clock() -> None:
    text = change("clocks: {start: [resolution]}", "clocks: {start: [resolutoin]}")
    assert_problem(text, "clocks: {start: [resolutoin]}", "step 'intake' names unknown clock 'resolutoin' (did you mean 'resolution'?)")


def test_bad_duration() -> None:
    text = change("{target: 4 hours}", "{target: 4 fortnights}")
    assert_problem(text, "4 fortnights", "clock 'task' has target '4 fortnights'; write e.g. '48 hours' or '13 business days'")


def test_unknown_key_suggests_the_right_one() -> None:
    text = change("    from: intake\n", "    form: intake\n")
    assert_problem(text, "form: intake", "unknown key 'form' in transition 'submit' (did you mean 'from'?)")


def test_yaml_syntax_error_names_the_line() -> None:
    text = change("name: Demo\n", "name: [Demo\n")
    found = problems(text)
    assert len(found) == 1 and found[0].startswith("demo.yaml line ") and "not valid YAML" in found[0]


def test_resume_without_suspend() -> None:
    text = change("    suspends: true\n", "")
    found = problems(text)
    assert (
        f"demo.yaml line {line_of(text, 'from: parked')}: transition 'unpark' resumes from 'parked', which no suspending transition leads to"
        in found
    )


def test_only_suspending_transitions_lead_to_a_suspension_step() -> None:
    text = change("transitions:\n", "transitions:\n  - action: sneak\n    from: intake\n    to: parked\n")
    assert_problem(text, "to: parked", "transition 'sneak' goes to 'parked', where only suspending transitions may lead")


def test_suspension_step_cannot_start_clocks() -> None:
    text = change("  - id: parked\n    owner: dispatcher\n", "  - id: parked\n    owner: dispatcher\n    clocks: {start: [resolution]}\n")
    assert_problem(
        text, "clocks: {start: [resolution]}", "step 'parked' is where suspended cases wait; it cannot start or resume clocks", 2
    )


def test_extension_must_read_one_of_its_inputs() -> None:
    text = change("    to: parked\n", "    to: parked\n    extends: {clock: resolution, until: new_due}\n")
    assert_problem(text, "extends:", "'extends' of transition 'park' reads input 'new_due', which is not among its inputs")


def test_shadowed_transition() -> None:
    text = change(
        "      - {field: priority, op: in, value: [high, urgent]}\n", "      - {field: priority, op: in, value: [high, urgent]}\n"
    )
    text = change("    guards:\n      - {field: priority, op: in, value: [high, urgent]}\n", "", text)
    first = line_of(text, "- action: approve")
    assert_problem(
        text, "- action: approve", f"transition 'approve' from 'review' can never be taken: the one at line {first} has no guards", 2
    )


def test_reserved_action() -> None:
    text = change("- action: submit", "- action: complete_task")
    assert_problem(text, "- action: complete_task", "action 'complete_task' is reserved for the engine")


def test_exemption_for_an_unknown_action() -> None:
    text = change("not_required_for: [park]", "not_required_for: [prak]")
    assert_problem(
        text, "not_required_for: [prak]", "step 'review' exempts 'prak', which is not an action out of it (did you mean 'park'?)"
    )


def test_unknown_status() -> None:
    text = change("    owner: front_line\n", "    owner: front_line\n    status: opened\n")
    found = problems(text)
    assert any(
        p.startswith(f"demo.yaml line {line_of(text, 'status: opened')}: step 'intake' has status 'opened' (did you mean 'open'?)")
        for p in found
    )


def test_transition_needs_exactly_one_ending() -> None:
    text = change("    to: review\n", "    to: review\n    stay: true\n")
    assert_problem(text, "- action: submit", "transition 'submit' needs exactly one of 'to', 'stay: true' or 'resumes: true'")


def test_unknown_initial_step() -> None:
    text = change("initial_step: intake", "initial_step: intak")
    assert_problem(text, "initial_step: intak", "'initial_step' is an unknown step 'intak' (did you mean 'intake'?)")


def test_task_step_needs_an_owner() -> None:
    text = change("  - id: parked\n    owner: dispatcher\n", "  - id: parked\n")
    assert_problem(text, "- id: parked", "step 'parked' has no owner")


def test_document_must_be_a_mapping() -> None:
    assert problems("- just\n- a list\n") == ["demo.yaml line 1: a workflow definition must be a mapping"]


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = change("to: countersign", "to: nowhere")
    text = change("version: 1", "version: one", text)
    found = problems(text)
    assert len(found) >= 2
    lines = [int(p.split(" line ")[1].split(":")[0]) for p in found]
    assert lines == sorted(lines)


# -- durations and guards ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48 hours", Duration(48, "hours")),
        ("13 business days", Duration(13, "days", True)),
        ("2 business hours", Duration(2, "hours", True)),
        ("30m", Duration(30, "minutes")),
        ("1 day", Duration(1, "days")),
        ("soon", None),
    ],
)
def test_parse_duration(text: str, expected: Duration | None) -> None:
    assert parse_duration(text) == expected


def test_duration_timedelta_only_for_calendar_time() -> None:
    assert Duration(48, "hours").to_timedelta().total_seconds() == 48 * 3600
    assert Duration(2, "hours", True).seconds() == 7200
    assert Duration(13, "days", True).seconds(day_seconds=8 * 3600) == 13 * 8 * 3600
    with pytest.raises(ValueError, match="business calendar"):
        Duration(3, "days", True).to_timedelta()


def cond(op: str, value: object = None, source: str = "field", name: str = "x") -> Condition:
    return Condition(source, name, op, value, None, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("condition", "fields", "holds"),
    [
        (cond("eq", "a"), {"x": "a"}, True),
        (cond("eq", "a"), {"x": "b"}, False),
        (cond("ne", "a"), {}, True),
        (cond("in", ("a", "b")), {"x": "b"}, True),
        (cond("in", ("a", "b")), {"x": "c"}, False),
        (cond("not_in", ("a",)), {"x": "c"}, True),
        (cond("contains", "vip"), {"x": ["vip", "new"]}, True),
        (cond("contains", "vip"), {"x": "vip"}, False),
        (cond("lt", 3), {"x": 2}, True),
        (cond("lt", 3), {"x": 3}, False),
        (cond("le", 3), {"x": 3.0}, True),
        (cond("gt", "b"), {"x": "c"}, True),
        (cond("ge", 3), {"x": "3"}, False),  # text and numbers never compare
        (cond("ge", 1), {"x": True}, False),  # nor booleans
        (cond("lt", 3), {}, False),
        (cond("present"), {"x": "y"}, True),
        (cond("present"), {"x": ""}, False),
        (cond("present"), {"x": []}, False),
        (cond("absent"), {"x": None}, True),
        (cond("eq", False), {"x": False}, True),
    ],
)
def test_conditions(condition: Condition, fields: dict[str, object], holds: bool) -> None:
    assert (condition.check(fields, {}, {}) is None) is holds


def test_guard_messages_say_what_was_expected_and_found() -> None:
    priority = Condition("field", "priority", "in", ("high", "urgent"), None, 1)
    assert priority.check({"priority": "low"}, None, {}) == "field 'priority' must be one of 'high', 'urgent' (it is 'low')"
    count = Condition("count", "reopen", "lt", 2, None, 1)
    assert count.check({}, None, {"reopen": 2}) == "the number of 'reopen' actions must be less than 2 (it is 2)"
    custom = Condition("input", "amount", "le", 500, "needs a supervisor", 1)
    assert custom.check({}, {"amount": 900}, {}) == "needs a supervisor"
    assert custom.check({}, None, {}) is None  # input guards wait for the inputs


def test_any_of_and_check_guards() -> None:
    either = AnyOf((cond("eq", "a"), cond("eq", 1, name="y")), None, 1)
    assert either.check({"y": 1}, {}, {}) is None
    assert either.check({}, {}, {}) == "field 'x' must be 'a' (it is missing) or field 'y' must be 1 (it is missing)"
    assert check_guards([cond("present"), either], {"x": "a"}, {}, {}) is None
    assert check_guards([cond("absent"), either], {"x": "a"}, {}, {}) == "field 'x' must be empty (it is 'a')"


def test_guard_any_in_yaml() -> None:
    text = change(
        "      - {field: priority, op: in, value: [high, urgent]}\n",
        "      - any:\n          - {field: priority, op: in, value: [high, urgent]}\n          - {field: tier, op: eq, value: diamond}\n",
    )
    guard = load_definition(text).transitions_from("review")[0].guards[0]
    assert isinstance(guard, AnyOf) and len(guard.options) == 2
    assert guard.check({"tier": "diamond"}, None, {}) is None


def test_applies_to() -> None:
    text = change("name: Demo\n", "name: Demo\napplies_to:\n  category: [billing, payment]\n")
    definition = load_definition(text)
    assert definition.matches({"category": "payment"})
    assert not definition.matches({"category": "roaming"})
    assert not definition.matches({})


# -- files and versions --------------------------------------------------------------------------


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_versions_coexist_and_the_latest_is_the_default(tmp_path: Path) -> None:
    write(tmp_path, "demo_v1.yaml", VALID)
    write(tmp_path, "demo_v2.yaml", change("version: 1", "version: 2", change("name: Demo", "name: Demo two")))
    write(tmp_path, "notes.txt", "not a definition")
    registry = load_directory(tmp_path)
    assert len(registry) == 2 and "demo" in registry and registry.keys() == ("demo",)
    assert registry.versions("demo") == (1, 2)
    assert registry.get("demo").version == 2 and registry.get("demo").name == "Demo two"
    assert registry.get("demo", 1).name == "Demo"  # a case started on v1 keeps v1
    assert [d.ref for d in registry] == ["demo@v1", "demo@v2"]
    with pytest.raises(UnknownDefinition, match="no version 3 of workflow 'demo'"):
        registry.get("demo", 3)
    with pytest.raises(UnknownDefinition, match="no workflow 'other'"):
        registry.get("other")


def test_the_same_version_twice_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    write(tmp_path, "b.yaml", VALID)
    with pytest.raises(DefinitionError, match=r"b.yaml line 1: demo@v1 is also defined in a.yaml"):
        load_directory(tmp_path)


def test_directory_problems_name_their_files(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", VALID)
    write(tmp_path, "bad.yaml", change("to: review", "to: reveiw"))
    with pytest.raises(DefinitionError) as caught:
        load_directory(tmp_path)
    assert [p.source for p in caught.value.problems] == ["bad.yaml"]
    assert "bad.yaml line" in str(caught.value) and "unknown step 'reveiw' (did you mean 'review'?)" in str(caught.value)


def test_load_file_uses_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "demo.yaml", VALID)
    assert load_file(path).source == "demo.yaml"


def test_select_prefers_the_most_specific_latest_definition() -> None:
    fallback = load_definition(change("key: demo", "key: fallback"))
    billing = load_definition(change("name: Demo\n", "name: Demo\napplies_to:\n  category: [billing]\n"))
    registry = DefinitionRegistry([fallback, billing])
    assert registry.select({"category": "billing"}) is billing
    assert registry.select({"category": "roaming"}) is fallback


def test_shipped_registry() -> None:
    registry = shipped_registry()
    assert registry.keys() == ("billing_dispute", "complaint", "fault_repair", "general_enquiry")
    assert all(d.version == 1 for d in registry)
    assert registry.select({"category": "complaint"}).key == "complaint"  # type: ignore[union-attr]
    assert registry.select({"category": "billing_dispute"}).key == "billing_dispute"  # type: ignore[union-attr]
    assert registry.select({"category": "no_signal"}).key == "fault_repair"  # type: ignore[union-attr]
    assert registry.select({"category": "roaming"}).key == "general_enquiry"  # type: ignore[union-attr]
