"""/api/v1/workflows: the shipped definitions as data with their YAML, and validating a draft by line."""

from __future__ import annotations

from tests.factories import AgentFactory, DepartmentFactory
from workflows.definition_loader import SHIPPED_DIRECTORY

URL = "/api/v1/workflows"
SHIPPED = ["billing_dispute", "complaint", "fault_repair", "general_enquiry"]
ENQUIRY = (SHIPPED_DIRECTORY / "general_enquiry.yaml").read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


# --- reading -------------------------------------------------------------------------------------


def test_the_list_has_the_four_shipped_workflows(supervisor_api):
    r = supervisor_api.get(URL)
    assert r.status_code == 200, r.json
    assert [w["key"] for w in r.json] == SHIPPED
    complaint = next(w for w in r.json if w["key"] == "complaint")
    assert complaint == {
        "key": "complaint",
        "version": 1,
        "versions": [1],
        "name": "Complaint (12345 style)",
        "description": complaint["description"],
        "applies_to": {"category": ["complaint"]},
        "initial_step": "intake",
        "step_count": 12,
        "source": "complaint_12345.yaml",
    }
    assert complaint["description"].startswith("Formal complaint")
    enquiry = next(w for w in r.json if w["key"] == "general_enquiry")
    assert enquiry["applies_to"] == {} and enquiry["step_count"] == 4


def test_a_definition_in_full_with_its_yaml(admin_api):
    r = admin_api.get(f"{URL}/complaint")
    assert r.status_code == 200, r.json
    complaint = r.json
    assert complaint["yaml"] == (SHIPPED_DIRECTORY / "complaint_12345.yaml").read_text(encoding="utf-8")
    clocks = {c["name"]: c["target"] for c in complaint["clocks"]}
    assert clocks["first_response"] is None  # from the SLA policy
    assert clocks["resolution"] == "13 business days" and clocks["acknowledge"] == "2 business hours"

    steps = {s["id"]: s for s in complaint["steps"]}
    assert len(steps) == 12 and complaint["steps"][0]["id"] == "intake"
    assert steps["handle"] == {
        "id": "handle",
        "name": "Handle 办理",
        "kind": "task",
        "owner": {"functions": ["case_department"], "roles": []},
        "status": "open",
        "clocks": {"start": ["handling"], "pause": [], "resume": [], "stop": ["acknowledge"]},
        "sla": "handling",
        "required_fields": ["handling_result"],
        "not_required_for": ["request_extension", "return"],
        "tasks": None,
        "line": _line_of(complaint["yaml"], "- id: handle"),
    }
    assert steps["archived"]["kind"] == "final" and steps["archived"]["owner"] is None

    transitions = complaint["transitions"]
    forward = next(t for t in transitions if t["action"] == "forward")
    assert (forward["from"], forward["to"], forward["stay"], forward["by"]) == (["intake"], "dispatch", False, None)
    supervise = next(t for t in transitions if t["action"] == "supervise")
    assert supervise["stay"] is True and supervise["to"] is None
    assert supervise["guards"] == [
        {"source": "field", "name": "overdue", "op": "eq", "value": True, "message": "only an overdue case can be supervised"}
    ]
    assert supervise["notify"] == {"kind": "supervise", "target": "case_department"}
    extension = next(t for t in transitions if t["action"] == "approve_extension")
    assert extension["extends"] == {"clock": "handling", "until": "extension_until", "by": None}
    assert extension["inputs"] == ["extension_until"]
    satisfaction = next(t for t in transitions if any(g.get("name") == "satisfaction" for g in t["guards"]))
    assert satisfaction["guards"][0]["op"] == "in" and "unreachable" in satisfaction["guards"][0]["value"]

    # A version, explicitly; unknown ones are 404.
    assert admin_api.get(f"{URL}/complaint", query_string={"version": 1}).json["version"] == 1
    r = admin_api.get(f"{URL}/complaint", query_string={"version": 9})
    assert r.status_code == 404 and "version 9" in r.json["detail"]
    assert admin_api.get(f"{URL}/complaint_12345").status_code == 404
    assert admin_api.get(f"{URL}/complaint", query_string={"version": "latest"}).status_code == 400


def test_countersign_tasks_and_joins(supervisor_api):
    with_tasks = []
    for key in SHIPPED:
        definition = supervisor_api.get(f"{URL}/{key}").json
        with_tasks += [(key, s, definition["joins"]) for s in definition["steps"] if s["tasks"] is not None]
    assert with_tasks, "a shipped workflow has a countersign step"
    for _key, step, joins in with_tasks:
        assert step["kind"] == "countersign" and step["tasks"]["lead"]
        assert isinstance(step["tasks"]["co_handlers"], list)
        assert any(j["step"] == step["id"] for j in joins)


# --- validating a draft --------------------------------------------------------------------------


def test_a_valid_draft_says_what_it_defines(supervisor_api):
    draft = ENQUIRY.replace("version: 1", "version: 2")
    r = supervisor_api.post(f"{URL}/validate", json={"yaml": draft})
    assert r.status_code == 200, r.json
    assert r.json == {
        "valid": True,
        "key": "general_enquiry",
        "version": 2,
        "name": "General enquiry",
        "steps": ["intake", "answer", "awaiting_customer", "closed"],
        "problems": [],
    }
    # Nothing is stored: the registry still ships version 1 only.
    assert supervisor_api.get(f"{URL}/general_enquiry").json["versions"] == [1]


def test_a_transition_to_an_unknown_step_is_reported_at_its_line(supervisor_api):
    draft = ENQUIRY.replace("    to: closed\n    inputs: [reply_text]", "    to: closd\n    inputs: [reply_text]")
    assert draft != ENQUIRY
    r = supervisor_api.post(f"{URL}/validate", json={"yaml": draft})
    assert r.status_code == 200, r.json
    assert r.json["valid"] is False and "key" not in r.json
    assert r.json["problems"] == [
        {"line": _line_of(draft, "to: closd"), "message": "transition 'answer_now' goes to unknown step 'closd' (did you mean 'closed'?)"}
    ]


def test_every_problem_is_reported_with_its_line(supervisor_api):
    draft = ENQUIRY.replace("status: pending", "status: waiting").replace("    owner: front_line\n    status: new", "    status: new")
    problems = supervisor_api.post(f"{URL}/validate", json={"yaml": draft}).json["problems"]
    assert [p["line"] for p in problems] == sorted(p["line"] for p in problems)
    assert {"line": _line_of(draft, "- id: intake"), "message": "step 'intake' has no owner"} in problems
    assert any(p["line"] == _line_of(draft, "status: waiting") and "status 'waiting'" in p["message"] for p in problems)

    broken = supervisor_api.post(f"{URL}/validate", json={"yaml": "key: x\nsteps: [a, b\n"}).json
    assert broken["valid"] is False and broken["problems"][0]["message"].startswith("not valid YAML")
    assert broken["problems"][0]["line"] == 3
    listed = supervisor_api.post(f"{URL}/validate", json={"yaml": "- just\n- a list\n"}).json
    assert listed["problems"] == [{"line": 1, "message": "a workflow definition must be a mapping"}]


def test_a_draft_is_json_with_yaml_text_of_limited_size(supervisor_api):
    endpoint = f"{URL}/validate"
    r = supervisor_api.post(endpoint, data=ENQUIRY, headers={"Content-Type": "text/yaml"})
    assert r.status_code == 422 and "yaml" in r.json["errors"]["json"]
    assert supervisor_api.post(endpoint, data="{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert supervisor_api.post(endpoint, json={"yaml": 7}).status_code == 422
    assert supervisor_api.post(endpoint, json={"yaml": ENQUIRY, "publish": True}).status_code == 422

    padded = ENQUIRY + "#" * (200 * 1024)
    r = supervisor_api.post(endpoint, json={"yaml": padded})
    assert r.status_code == 422 and "200 KB" in r.json["errors"]["json"]["yaml"][0]
    r = supervisor_api.post(endpoint, json={"yaml": padded * 2})
    assert r.status_code == 413 and r.json["status"] == 413
    # Just under the limit is fine.
    r = supervisor_api.post(endpoint, json={"yaml": ENQUIRY + "#" * (200 * 1024 - len(ENQUIRY.encode()) - 1)})
    assert r.status_code == 200 and r.json["valid"] is True


# --- who may -------------------------------------------------------------------------------------


def test_agents_may_not_see_or_validate_workflows(login_as):
    agent_api = login_as(AgentFactory(departments=[DepartmentFactory()]))
    assert agent_api.get(URL).status_code == 403
    assert agent_api.get(f"{URL}/complaint").status_code == 403
    assert agent_api.post(f"{URL}/validate", json={"yaml": ENQUIRY}).status_code == 403


def test_the_endpoints_are_in_the_openapi_document(supervisor_api):
    paths = set(supervisor_api.get("/api/v1/openapi.json").json["paths"])
    assert {"/api/v1/workflows", "/api/v1/workflows/{key}", "/api/v1/workflows/validate"} <= paths
