"""A user of department A can neither list, read, search nor change a ticket of department B.

These tests fail if visible_tickets_clause() stops filtering (see test_scope_check_is_what_protects).
"""

import io

import pytest
from sqlalchemy import true

from service_hub.core.extensions import db
from service_hub.tickets import access
from service_hub.tickets.models import Ticket, TicketInvitation
from tests.factories import AttachmentFactory


def _ids(response):
    assert response.status_code == 200, response.json
    return {t["id"] for t in response.json["items"]}


def test_agent_lists_only_own_department(world, login_as):
    api = login_as(world.agent_a)
    assert _ids(api.get("/api/v1/tickets")) == {world.ticket_a.id}
    assert _ids(api.get(f"/api/v1/tickets?department_id={world.dept_b.id}")) == set()
    assert _ids(api.get(f"/api/v1/tickets?q={world.ticket_b.number}")) == set()
    assert _ids(api.get("/api/v1/tickets?q=broadband")) == set()
    assert _ids(api.get(f"/api/v1/tickets?customer_id={world.ticket_b.customer_id}")) == set()


@pytest.mark.parametrize("path", ["", "/messages", "/audit"])
def test_guessing_an_id_of_another_department_is_404(world, login_as, path):
    api = login_as(world.agent_a)
    r = api.get(f"/api/v1/tickets/{world.ticket_b.id}{path}")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_cannot_change_or_write_to_a_ticket_of_another_department(world, login_as):
    api = login_as(world.agent_a)
    version = world.ticket_b.version
    assert api.patch(f"/api/v1/tickets/{world.ticket_b.id}", json={"version": version, "status": "solved"}).status_code == 404
    assert api.post(f"/api/v1/tickets/{world.ticket_b.id}/messages", json={"kind": "note", "body_text": "x"}).status_code == 404
    assert api.post(f"/api/v1/tickets/{world.ticket_b.id}/attachments", data={"file": (io.BytesIO(b"x"), "a.txt")}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Ticket, world.ticket_b.id).status.value == "open"


def test_cannot_open_a_ticket_in_another_department(world, login_as):
    api = login_as(world.agent_a)
    r = api.post("/api/v1/tickets", json={"subject": "x", "department_id": world.dept_b.id, "customer_id": world.ticket_a.customer_id})
    assert r.status_code == 422


def test_attachment_of_another_department_is_404(world, login_as, app):
    attachment = AttachmentFactory(ticket_id=world.ticket_b.id)
    api = login_as(world.agent_a)
    assert api.get(f"/api/v1/attachments/{attachment.id}/content").status_code == 404


def test_groups_below_a_department_are_visible(world, login_as):
    from tests.factories import TicketFactory

    in_group = TicketFactory(department=world.group_a)
    api = login_as(world.agent_a)
    assert _ids(api.get("/api/v1/tickets")) == {world.ticket_a.id, in_group.id}


def test_supervisor_sees_their_centre_and_admin_everything(world, login_as):
    assert _ids(login_as(world.supervisor_a).get("/api/v1/tickets")) == {world.ticket_a.id}
    assert _ids(login_as(world.admin).get("/api/v1/tickets")) == {world.ticket_a.id, world.ticket_b.id}


def test_invitation_grants_access_while_it_stands(world, login_as):
    invitation = TicketInvitation(ticket_id=world.ticket_b.id, department_id=world.dept_a.id)
    db.session.add(invitation)
    api = login_as(world.agent_a)
    assert api.get(f"/api/v1/tickets/{world.ticket_b.id}").status_code == 200
    from service_hub.core.types import utcnow

    invitation.revoked_at = utcnow()
    db.session.commit()
    assert api.get(f"/api/v1/tickets/{world.ticket_b.id}").status_code == 404


def test_scope_check_is_what_protects(world, login_as, monkeypatch):
    """Remove the scope check and the other department's ticket leaks: the tests above would fail."""
    monkeypatch.setattr(access, "visible_tickets_clause", lambda scope: true())
    api = login_as(world.agent_a)
    assert api.get(f"/api/v1/tickets/{world.ticket_b.id}").status_code == 200


def test_every_endpoint_but_health_and_login_needs_authentication(app, client):
    public = {"/healthz", "/readyz", "/api/v1/auth/login", "/api/v1/auth/csrf", "/", "/<path:route>", "/assets/<path:filename>"}
    # Provider webhooks authenticate by the provider's signature (tests/inbound checks them).
    public |= {"/hooks/<family>/<provider>/<slug>", "/hooks/<family>/<provider>/<slug>/status", "/hooks/phone/twilio/<slug>/voice"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.rule in public:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "x").replace(f"<path:{arg}>", "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(url, method=method, json={})
            assert r.status_code == 401, f"{method} {rule.rule} answered {r.status_code} without credentials"
            checked += 1
    assert checked >= 15


def test_session_write_without_csrf_token_is_refused(world, login_as):
    api = login_as(world.agent_a)
    r = api.client.post(f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "note", "body_text": "x"})
    assert r.status_code == 403 and "CSRF" in r.json["detail"]
    ok = api.post(f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "note", "body_text": "x"})
    assert ok.status_code == 201
