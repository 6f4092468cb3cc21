def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "alive"}


def test_unauthenticated_api_is_401_problem(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.mimetype == "application/problem+json"
    assert r.json["status"] == 401
