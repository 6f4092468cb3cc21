"""Canned responses: who reads and writes which, search, shortcuts, optimistic locking, validation."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from service_hub.core.extensions import db

URL = "/api/v1/canned-responses"


def _titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json["items"]]


def test_supervisor_creates_reads_updates_and_deletes_a_department_response(world, login_as):
    api = login_as(world.supervisor_a)
    created = api.post(
        URL,
        json={
            "title": "Roaming",
            "body": "Hi {{customer.name}}",
            "shortcut": "/Roaming",
            "department_id": world.dept_a.id,
            "language": "en",
        },
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert body["shortcut"] == "/roaming" and body["department_name"] == "Front line A" and body["can_edit"] is True
    assert body["created_by_id"] == world.supervisor_a.id and body["version"] == 1

    changed = api.patch(f"{URL}/{body['id']}", json={"version": 1, "title": "Roaming abroad", "language": None})
    assert changed.status_code == 200, changed.json
    assert changed.json["title"] == "Roaming abroad" and changed.json["language"] is None and changed.json["version"] == 2
    assert api.get(f"{URL}/{body['id']}").json["title"] == "Roaming abroad"

    assert api.delete(f"{URL}/{body['id']}").status_code == 204
    assert api.get(f"{URL}/{body['id']}").status_code == 404


def test_agents_read_but_never_write(world, login_as, canned):
    row = canned("Greeting", department=world.dept_a)
    api = login_as(world.agent_a)
    assert api.get(f"{URL}/{row.id}").json["can_edit"] is False
    refused = api.post(URL, json={"title": "Mine", "body": "x", "department_id": world.dept_a.id})
    assert refused.status_code == 403
    assert api.patch(f"{URL}/{row.id}", json={"version": row.version, "title": "Changed"}).status_code == 403
    assert api.delete(f"{URL}/{row.id}").status_code == 403
    assert api.get(f"{URL}/{row.id}").json["title"] == "Greeting"


def test_a_department_response_is_invisible_to_another_department(world, login_as, canned):
    canned("Global hello")
    canned("A's roaming", department=world.dept_a)
    a_row = canned("A's billing", department=world.dept_a)
    canned("B's billing", department=world.dept_b)
    canned("Centre A policy", department=world.centre_a)

    assert sorted(_titles(login_as(world.agent_b).get(URL))) == ["B's billing", "Global hello"]
    assert login_as(world.agent_b).get(f"{URL}/{a_row.id}").status_code == 404
    # An agent sees their department, the levels above it (its centre) and the global ones.
    assert sorted(_titles(login_as(world.agent_a).get(URL))) == ["A's billing", "A's roaming", "Centre A policy", "Global hello"]
    # A group's member is offered its department's wording too.
    assert "A's roaming" in _titles(login_as(world.group_agent_a).get(URL))
    assert len(_titles(login_as(world.admin).get(URL))) == 5


def test_supervisors_write_only_their_centre_and_admins_write_global(world, login_as, canned):
    supervisor = login_as(world.supervisor_a)
    assert supervisor.post(URL, json={"title": "B", "body": "x", "department_id": world.dept_b.id}).status_code == 403
    assert supervisor.post(URL, json={"title": "Everyone", "body": "x"}).status_code == 403
    group_row = supervisor.post(URL, json={"title": "Group", "body": "x", "department_id": world.group_a.id})
    assert group_row.status_code == 201
    # Moving one of theirs to another centre is refused too.
    moved = supervisor.patch(f"{URL}/{group_row.json['id']}", json={"version": 1, "department_id": world.dept_b.id})
    assert moved.status_code == 403
    global_row = canned("Everyone")
    assert supervisor.get(f"{URL}/{global_row.id}").json["can_edit"] is False
    assert supervisor.delete(f"{URL}/{global_row.id}").status_code == 403

    admin = login_as(world.admin)
    made = admin.post(URL, json={"title": "Everyone 2", "body": "x", "shortcut": "/hi"})
    assert made.status_code == 201 and made.json["department_id"] is None and made.json["can_edit"] is True
    assert admin.post(URL, json={"title": "B", "body": "x", "department_id": world.dept_b.id}).status_code == 201


def test_search_by_title_shortcut_and_body_and_filters(world, login_as, canned):
    canned("Roaming charges", body="Roaming is billed daily", shortcut="/roaming")
    canned("Refund", body="We refund within 7 days", shortcut="/refund", department=world.dept_a)
    canned("Broadband outage", body="Engineers are on it 100%_sure")
    api = login_as(world.agent_a)
    assert _titles(api.get(URL, query_string={"q": "ROAM"})) == ["Roaming charges"]
    assert _titles(api.get(URL, query_string={"q": "/ref"})) == ["Refund"]
    assert _titles(api.get(URL, query_string={"q": "engineers"})) == ["Broadband outage"]
    # LIKE wildcards in the search are literal.
    assert _titles(api.get(URL, query_string={"q": "%_"})) == ["Broadband outage"]
    assert _titles(api.get(URL, query_string={"department_id": world.dept_a.id})) == ["Refund"]
    assert _titles(api.get(URL, query_string={"scope": "global"})) == ["Roaming charges", "Broadband outage"]
    assert api.get(URL, query_string={"colour": "red"}).status_code == 400


def test_shortcut_is_unique_per_scope(world, login_as, canned):
    canned("Global roaming", shortcut="/roaming")
    admin = login_as(world.admin)
    clash = admin.post(URL, json={"title": "Again", "body": "x", "shortcut": "/ROAMING"})
    assert clash.status_code == 409 and "shortcut" in clash.json["errors"]["json"]
    # Another scope may use the same shortcut.
    in_a = admin.post(URL, json={"title": "A roaming", "body": "x", "shortcut": "/roaming", "department_id": world.dept_a.id})
    assert in_a.status_code == 201
    in_a_again = admin.post(URL, json={"title": "A roaming 2", "body": "x", "shortcut": "/roaming", "department_id": world.dept_a.id})
    assert in_a_again.status_code == 409
    # Moving into a scope where the shortcut is taken clashes as well.
    other = admin.post(URL, json={"title": "B roaming", "body": "x", "shortcut": "/roaming", "department_id": world.dept_b.id})
    moved = admin.patch(f"{URL}/{other.json['id']}", json={"version": 1, "department_id": world.dept_a.id})
    assert moved.status_code == 409


def test_a_stale_version_is_409_and_changes_nothing(world, login_as, canned):
    row = canned("Greeting", department=world.dept_a)
    first, second = login_as(world.supervisor_a), login_as(world.admin)
    assert first.patch(f"{URL}/{row.id}", json={"version": 1, "title": "First"}).status_code == 200
    stale = second.patch(f"{URL}/{row.id}", json={"version": 1, "title": "Second"})
    assert stale.status_code == 409 and "changed by someone else" in stale.json["detail"]
    assert second.get(f"{URL}/{row.id}").json["title"] == "First"


def test_invalid_input_is_422(world, login_as, canned):
    admin = login_as(world.admin)
    cases = [
        {"body": "no title"},
        {"title": "", "body": "x"},
        {"title": "t" * 121, "body": "x"},
        {"title": "Long", "body": "x" * 5001},
        {"title": "Bad shortcut", "body": "x", "shortcut": "roaming"},
        {"title": "Bad shortcut", "body": "x", "shortcut": "/has space"},
        {"title": "Bad language", "body": "x", "language": "fr"},
        {"title": "Unknown field", "body": "x", "version": 3},
        {"title": "No department", "body": "x", "department_id": 999999},
    ]
    for payload in cases:
        response = admin.post(URL, json=payload)
        assert response.status_code == 422, (payload, response.json)
    assert admin.post(URL, json={"title": "Max", "body": "x" * 5000, "shortcut": "/退款_2"}).status_code == 201
    row = canned("Greeting")
    assert admin.patch(f"{URL}/{row.id}", json={"title": "No version"}).status_code == 422
    assert admin.get(URL).status_code == 200


def test_the_database_refuses_a_duplicate_global_shortcut(world, canned):
    # What the API's check cannot see (two writers at once) the unique index still stops, NULL scope included.
    canned("One", shortcut="/dup")
    canned("Same shortcut elsewhere", shortcut="/dup", department=world.dept_a)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        canned("Two", shortcut="/dup")
    canned("No shortcut 1")
    canned("No shortcut 2")
