"""API tokens and their scopes; mass assignment; attachments served safely; body limits."""

import hashlib
import io

from sqlalchemy import select

from service_hub.auth.models import ApiToken
from service_hub.auth.operations import create_token
from service_hub.core.extensions import db
from service_hub.tickets.models import Ticket


def _bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_token_with_read_scope_reads_but_cannot_write(world, client):
    _, secret = create_token(world.agent_a, "crm", ["tickets:read"], None)
    assert client.get("/api/v1/tickets", headers=_bearer(secret)).status_code == 200
    r = client.post(f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "note", "body_text": "x"}, headers=_bearer(secret))
    assert r.status_code == 403 and "tickets:write" in r.json["detail"]
    # The token acts within its agent's department scope like a session would.
    assert client.get(f"/api/v1/tickets/{world.ticket_b.id}", headers=_bearer(secret)).status_code == 404


def test_tokens_are_hashed_and_revocable(world, client, login_as):
    token, secret = create_token(world.agent_a, "crm", ["tickets:read"], None)
    row = db.session.scalars(select(ApiToken).where(ApiToken.id == token.id)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in row.token_hash
    api = login_as(world.agent_a)
    assert api.delete(f"/api/v1/me/tokens/{token.id}").status_code == 200
    r = client.get("/api/v1/tickets", headers=_bearer(secret))
    assert r.status_code == 401


def test_token_cannot_mint_tokens(world, client):
    _, secret = create_token(world.agent_a, "crm", ["tickets:read", "tickets:write"], None)
    r = client.post("/api/v1/me/tokens", json={"name": "x", "scopes": ["admin"]}, headers=_bearer(secret))
    assert r.status_code == 403


def test_agent_cannot_create_admin_scoped_token(world, login_as):
    r = login_as(world.agent_a).post("/api/v1/me/tokens", json={"name": "x", "scopes": ["admin"]})
    assert r.status_code == 403
    ok = login_as(world.agent_a).post("/api/v1/me/tokens", json={"name": "x", "scopes": ["tickets:read"]})
    assert ok.status_code == 201 and ok.json["token"].startswith("shub_")


def test_mass_assignment_of_protected_ticket_fields_is_refused(world, login_as):
    api = login_as(world.agent_a)
    before = db.session.get(Ticket, world.ticket_a.id)
    number, tier = before.number, before.tier
    for field, value in {"number": 1, "tier": "diamond", "customer_id": 999, "created_at": "2020-01-01T00:00:00Z", "id": 5}.items():
        r = api.patch(f"/api/v1/tickets/{world.ticket_a.id}", json={"version": before.version, field: value})
        assert r.status_code == 422 and field in r.json["errors"]["json"], field
    db.session.expire_all()
    after = db.session.get(Ticket, world.ticket_a.id)
    assert (after.number, after.tier, after.version) == (number, tier, before.version)


def test_validation_errors_have_one_shape(world, login_as):
    r = login_as(world.agent_a).post("/api/v1/tickets", json={"subject": "", "department_id": "x"})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert set(r.json) >= {"type", "title", "status", "detail", "errors"}
    assert {"subject", "department_id"} <= set(r.json["errors"]["json"])
    broken = login_as(world.agent_a).post("/api/v1/tickets", data="{not json", content_type="application/json")
    assert broken.status_code in (400, 422) and broken.mimetype == "application/problem+json"


def test_attachment_upload_and_safe_download(world, login_as):
    api = login_as(world.agent_a)
    payload = b"<html><script>alert(1)</script></html>"
    up = api.post(
        f"/api/v1/tickets/{world.ticket_a.id}/attachments", data={"file": (io.BytesIO(payload), 'evil"\r\nX-Injected: 1.html', "text/html")}
    )
    assert up.status_code == 201, up.json
    assert up.json["sha256"] == hashlib.sha256(payload).hexdigest() and up.json["size"] == len(payload)
    msg = api.post(
        f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "note", "body_text": "see file", "attachment_ids": [up.json["id"]]}
    )
    assert msg.status_code == 201 and msg.json["attachments"][0]["id"] == up.json["id"]
    again = api.post(
        f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "note", "body_text": "x", "attachment_ids": [up.json["id"]]}
    )
    assert again.status_code == 422
    down = api.get(up.json["download_url"])
    assert down.status_code == 200 and down.data == payload
    assert down.mimetype == "application/octet-stream"  # HTML is never served as HTML
    assert down.headers["X-Content-Type-Options"] == "nosniff"
    assert down.headers["Content-Disposition"].startswith("attachment;")
    assert "\r" not in down.headers["Content-Disposition"] and "X-Injected" not in str(down.headers.keys())


def test_oversized_body_is_413_before_parsing(app, world, login_as):
    api = login_as(world.agent_a)
    limit = app.config["MAX_CONTENT_LENGTH"]
    r = api.post(f"/api/v1/tickets/{world.ticket_a.id}/attachments", data={"file": (io.BytesIO(b"x" * (limit + 1)), "big.bin")})
    assert r.status_code == 413 and r.mimetype == "application/problem+json"


def test_openapi_document_is_served_to_logged_in_users(world, login_as, client):
    assert client.get("/api/v1/openapi.json").status_code == 401
    spec = login_as(world.agent_a).get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/v1/tickets" in spec["paths"]
