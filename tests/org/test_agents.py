"""Admin CRUD of agents: PATCH semantics, unique emails, memberships, sessions ended by a password change."""

from __future__ import annotations

import pytest

from service_hub.core.extensions import db
from service_hub.org.models import Agent, DepartmentMembership, Presence, Role
from tests.conftest import login
from tests.factories import PASSWORD, AgentFactory, DepartmentFactory

URL = "/api/v1/agents"
NEW_PASSWORD = "a much longer secret"


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return AgentFactory(role=Role.ADMIN)


@pytest.fixture
def admin_api(admin, login_as):  # type: ignore[no-untyped-def]
    return login_as(admin)


def test_admin_creates_an_agent_who_can_log_in(app, admin_api):
    sales, support = DepartmentFactory(), DepartmentFactory()
    db.session.commit()
    r = admin_api.post(
        URL,
        json={
            "email": "New.Person@Example.TEST",
            "name": "New Person",
            "role": "supervisor",
            "password": NEW_PASSWORD,
            "department_ids": [sales.id, support.id, sales.id],
            "skills": ["refunds", " refunds ", "vip"],
            "languages": ["en"],
            "capacity": 8,
        },
    )
    assert r.status_code == 201, r.json
    body = r.json
    assert body["email"] == "new.person@example.test"
    assert body["role"] == "supervisor" and body["capacity"] == 8 and body["presence"] == "offline"
    assert body["department_ids"] == [sales.id, support.id]
    assert body["skills"] == ["refunds", "vip"]
    assert "password" not in body and "password_hash" not in body and "session_generation" not in body

    me = login(app, "new.person@example.test", NEW_PASSWORD).get("/api/v1/me")
    assert me.status_code == 200 and me.json["role"] == "supervisor"


def test_agent_without_password_is_created_but_cannot_log_in(app, admin_api):
    r = admin_api.post(URL, json={"email": "nopass@example.test", "name": "No Pass"})
    assert r.status_code == 201, r.json
    assert r.json["role"] == "agent" and r.json["capacity"] == 5 and r.json["department_ids"] == []
    assert db.session.get(Agent, r.json["id"]).password_hash is None


def test_duplicate_email_is_409_whatever_the_case(app, admin_api):
    existing = AgentFactory(email="taken@example.test")
    other = AgentFactory()
    db.session.commit()
    r = admin_api.post(URL, json={"email": "TAKEN@example.test", "name": "Copy"})
    assert r.status_code == 409, r.json
    r = admin_api.patch(f"{URL}/{other.id}", json={"email": "Taken@Example.test", "name": "Changed"})
    assert r.status_code == 409
    db.session.refresh(other)
    assert other.name != "Changed" and other.email != existing.email


@pytest.mark.parametrize(
    "body",
    [
        {"capacity": 101},
        {"capacity": -1},
        {"password": "short"},
        {"role": "root"},
        {"email": "not-an-email"},
        {"name": "   "},
    ],
)
def test_invalid_fields_are_422(app, admin_api, body):
    r = admin_api.post(URL, json={"email": "valid@example.test", "name": "Valid", **body})
    assert r.status_code == 422, r.json
    assert set(body) <= set(r.json["errors"]["json"])


def test_unknown_or_inactive_departments_are_422(app, admin_api):
    closed = DepartmentFactory(is_active=False)
    db.session.commit()
    r = admin_api.post(URL, json={"email": "d@example.test", "name": "D", "department_ids": [closed.id, 999999]})
    assert r.status_code == 422
    assert len(r.json["errors"]["department_ids"]) == 2
    assert db.session.query(Agent).filter_by(email="d@example.test").first() is None


def test_patch_changes_only_what_is_sent_and_keeps_lead_flags(app, admin_api):
    keep, drop, add = DepartmentFactory(), DepartmentFactory(), DepartmentFactory()
    agent = AgentFactory(departments=[keep, drop], skills=["a"], capacity=3)
    agent.memberships[0].is_lead = True
    db.session.commit()
    r = admin_api.patch(f"{URL}/{agent.id}", json={"department_ids": [keep.id, add.id], "capacity": 0})
    assert r.status_code == 200, r.json
    assert r.json["department_ids"] == [keep.id, add.id]
    assert r.json["capacity"] == 0 and r.json["skills"] == ["a"] and r.json["name"] == agent.name
    lead = db.session.get(DepartmentMembership, (agent.id, keep.id))
    assert lead is not None and lead.is_lead is True
    assert db.session.get(DepartmentMembership, (agent.id, drop.id)) is None


def test_list_filters_and_pages(app, admin_api, admin):
    sales = DepartmentFactory()
    alice = AgentFactory(name="Alice Example", departments=[sales])
    bob = AgentFactory(name="Bob", email="bob@percent%.test", departments=[sales])
    carol = AgentFactory(name="Carol", role=Role.SUPERVISOR, is_active=False)
    db.session.commit()

    def ids(**query: object) -> list[int]:
        r = admin_api.get(URL, query_string=query)
        assert r.status_code == 200, r.json
        return [a["id"] for a in r.json["items"]]

    assert ids(department_id=sales.id) == [alice.id, bob.id]
    assert ids(role="supervisor") == [carol.id]
    assert ids(is_active="false") == [carol.id]
    assert ids(q="alice EX") == [alice.id]
    assert ids(q="%") == [bob.id]  # LIKE wildcards are matched literally

    everyone = [admin.id, alice.id, bob.id, carol.id]
    first = admin_api.get(URL, query_string={"limit": 2}).json
    assert [a["id"] for a in first["items"]] == everyone[:2]
    second = admin_api.get(URL, query_string={"limit": 2, "cursor": first["next_cursor"]}).json
    assert [a["id"] for a in second["items"]] == everyone[2:]
    assert second["next_cursor"] is None
    # A bad query string is a malformed request (400), a bad body an invalid entity (422).
    assert admin_api.get(URL, query_string={"limit": 201}).status_code == 400
    assert admin_api.get(URL, query_string={"cursor": "garbage"}).status_code == 400


def test_any_agent_may_read_the_directory_without_secrets(app, login_as):
    colleague = AgentFactory()
    api = login_as(AgentFactory())
    listed = api.get(URL)
    assert listed.status_code == 200
    assert all("password_hash" not in a and "session_generation" not in a for a in listed.json["items"])
    one = api.get(f"{URL}/{colleague.id}")
    assert one.status_code == 200 and one.json["email"] == colleague.email
    assert api.get(f"{URL}/999999").status_code == 404


def test_password_change_ends_the_old_session(app, admin_api, login_as):
    agent = AgentFactory()
    old = login_as(agent)
    assert old.get("/api/v1/me").status_code == 200
    r = admin_api.patch(f"{URL}/{agent.id}", json={"password": NEW_PASSWORD})
    assert r.status_code == 200, r.json
    assert old.get("/api/v1/me").status_code == 401
    assert login(app, agent.email, NEW_PASSWORD).get("/api/v1/me").status_code == 200


def test_admin_changing_own_password_keeps_this_session(app, admin, admin_api, login_as):
    other_browser = login_as(admin)
    r = admin_api.patch(f"{URL}/{admin.id}", json={"password": NEW_PASSWORD})
    assert r.status_code == 200, r.json
    assert admin_api.get("/api/v1/me").status_code == 200
    assert other_browser.get("/api/v1/me").status_code == 401


def test_deactivation_ends_sessions_and_takes_the_agent_offline(app, admin_api, login_as):
    agent = AgentFactory(presence=Presence.ONLINE)
    old = login_as(agent)
    r = admin_api.patch(f"{URL}/{agent.id}", json={"is_active": False})
    assert r.status_code == 200 and r.json["is_active"] is False and r.json["presence"] == "offline"
    assert old.get("/api/v1/me").status_code == 401


def test_last_active_admin_cannot_be_demoted_or_deactivated(app, admin, admin_api):
    for body in ({"role": "agent"}, {"is_active": False}):
        r = admin_api.patch(f"{URL}/{admin.id}", json=body)
        assert r.status_code == 409, body
    second = AgentFactory(role=Role.ADMIN)
    db.session.commit()
    assert admin_api.patch(f"{URL}/{second.id}", json={"role": "agent"}).status_code == 200
    AgentFactory(role=Role.ADMIN)
    db.session.commit()
    assert admin_api.patch(f"{URL}/{admin.id}", json={"role": "supervisor"}).status_code == 200


@pytest.mark.parametrize("field", ["password_hash", "session_generation", "id", "created_at", "presence", "last_login_at"])
def test_admin_cannot_set_server_fields(app, admin_api, field):
    agent = AgentFactory()
    db.session.commit()
    before = (agent.password_hash, agent.session_generation, agent.id, agent.name)
    r = admin_api.patch(f"{URL}/{agent.id}", json={"name": "Changed", field: "x"})
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]["json"]
    db.session.refresh(agent)
    assert (agent.password_hash, agent.session_generation, agent.id, agent.name) == before
    r = admin_api.post(URL, json={"email": "mass@example.test", "name": "Mass", field: "x"})
    assert r.status_code == 422


def test_missing_agent_is_404(app, admin_api):
    assert admin_api.patch(f"{URL}/999999", json={"name": "x"}).status_code == 404


def test_login_still_uses_the_unchanged_factory_password(app, admin):
    # Guards the fixtures above: an admin PATCH that fails must not have changed the password.
    db.session.commit()
    assert login(app, admin.email, PASSWORD).get("/api/v1/me").status_code == 200
