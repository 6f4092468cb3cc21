"""Who may read and change the organisation: every signed-in user reads it, only admins change it."""

from __future__ import annotations

import pytest

from service_hub.auth.operations import create_token
from service_hub.core.extensions import db
from service_hub.org.models import Department, DepartmentKind, Role
from tests.factories import AgentFactory, DepartmentFactory

CENTRE = {"code": "new-centre", "name": "New centre", "kind": "centre"}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("role", [Role.AGENT, Role.BACK_OFFICE, Role.SUPERVISOR])
def test_non_admins_read_but_may_not_write(app, login_as, role):
    dept = DepartmentFactory(kind=DepartmentKind.CENTRE)
    colleague = AgentFactory()
    api = login_as(AgentFactory(role=role))
    assert api.get("/api/v1/departments").status_code == 200
    assert api.get(f"/api/v1/agents/{colleague.id}").status_code == 200
    writes = [
        api.post("/api/v1/departments", json=CENTRE),
        api.patch(f"/api/v1/departments/{dept.id}", json={"name": "Mine"}),
        api.delete(f"/api/v1/departments/{dept.id}"),
        api.post("/api/v1/agents", json={"email": "x@example.test", "name": "X"}),
        api.patch(f"/api/v1/agents/{colleague.id}", json={"name": "Renamed"}),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    db.session.refresh(dept)
    assert dept.name != "Mine"


def test_agent_cannot_promote_or_move_themself(app, login_as):
    home, elsewhere = DepartmentFactory(), DepartmentFactory()
    agent = AgentFactory(departments=[home])
    api = login_as(agent)
    for body in ({"role": "admin"}, {"department_ids": [elsewhere.id]}, {"password_hash": "x"}):
        r = api.patch(f"/api/v1/agents/{agent.id}", json=body)
        assert r.status_code == 403, body
    db.session.refresh(agent)
    assert agent.role == Role.AGENT and agent.department_ids == [home.id]
    assert api.get("/api/v1/me").json["role"] == "agent"


def test_anonymous_gets_401(app, client):
    assert client.get("/api/v1/departments").status_code == 401
    assert client.get("/api/v1/agents").status_code == 401


def test_token_scopes_limit_org_access(app):
    admin = AgentFactory(role=Role.ADMIN)
    db.session.commit()
    _, tickets_only = create_token(admin, "helpdesk bot", ["tickets:read"], None)
    _, reader = create_token(admin, "directory sync", ["org:read"], None)
    _, admin_token = create_token(admin, "provisioning", ["admin"], None)
    client = app.test_client()

    r = client.post("/api/v1/departments", json=CENTRE, headers=_bearer(tickets_only))
    assert r.status_code == 403 and "admin" in r.json["detail"]
    assert client.get("/api/v1/departments", headers=_bearer(tickets_only)).status_code == 403
    assert client.get("/api/v1/agents", headers=_bearer(reader)).status_code == 200
    assert client.post("/api/v1/departments", json=CENTRE, headers=_bearer(reader)).status_code == 403
    assert db.session.query(Department).filter_by(code=CENTRE["code"]).first() is None

    # A token needs no CSRF token; with the admin scope it provisions.
    r = client.post("/api/v1/departments", json=CENTRE, headers=_bearer(admin_token))
    assert r.status_code == 201, r.json


def test_admin_scope_does_not_lift_a_non_admin(app):
    supervisor = AgentFactory(role=Role.SUPERVISOR)
    db.session.commit()
    # Tokens are normally refused the admin scope for non-admins; even if one exists, the role decides.
    _, secret = create_token(supervisor, "odd", ["admin", "org:read"], None)
    r = app.test_client().post("/api/v1/departments", json=CENTRE, headers=_bearer(secret))
    assert r.status_code == 403


def test_deactivated_agent_token_stops_working(app, login_as):
    admin = AgentFactory(role=Role.ADMIN)
    agent = AgentFactory()
    db.session.commit()
    _, secret = create_token(agent, "script", ["org:read"], None)
    client = app.test_client()
    assert client.get("/api/v1/agents", headers=_bearer(secret)).status_code == 200
    assert login_as(admin).patch(f"/api/v1/agents/{agent.id}", json={"is_active": False}).status_code == 200
    assert client.get("/api/v1/agents", headers=_bearer(secret)).status_code == 401
