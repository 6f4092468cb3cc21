from tests.factories import PASSWORD, AgentFactory, DepartmentFactory


def test_login_sets_httponly_samesite_session_and_me_works(app, login_as):
    dept = DepartmentFactory()
    agent = AgentFactory(departments=[dept])
    api = login_as(agent)
    cookie = api.client.get_cookie("servicehub_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    me = api.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json["email"] == agent.email
    assert me.json["memberships"][0]["department_id"] == dept.id


def test_wrong_password_is_401_problem(app, client):
    agent = AgentFactory()
    from service_hub.core.extensions import db

    db.session.commit()
    token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    r = client.post("/api/v1/auth/login", json={"email": agent.email, "password": "wrong"}, headers={"X-CSRFToken": token})
    assert r.status_code == 401
    assert r.json["type"].endswith("invalid-credentials")


def test_login_without_csrf_token_is_refused(app, client):
    agent = AgentFactory()
    from service_hub.core.extensions import db

    db.session.commit()
    r = client.post("/api/v1/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert r.status_code == 403
    assert "CSRF" in r.json["detail"]
