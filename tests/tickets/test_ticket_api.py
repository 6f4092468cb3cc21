from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.tickets.models import AuditEvent, Message, Ticket


def test_create_ticket_for_new_customer_by_identity(world, login_as):
    api = login_as(world.agent_a)
    r = api.post(
        "/api/v1/tickets",
        json={
            "subject": "Bill too high",
            "channel": "sms",
            "department_id": world.dept_a.id,
            "priority": "high",
            "tags": ["Billing", "billing", "5g"],
            "customer": {"name": "王小明", "identities": [{"kind": "phone", "value": "138 0013 8000"}]},
            "message": {"body_html": "<p onclick='x()'>My bill<script>alert(1)</script> is wrong</p>"},
        },
    )
    assert r.status_code == 201, r.json
    body = r.json
    assert body["priority"] == "high" and body["tags"] == ["5g", "billing"]
    # agent_a is online in dept_a with room, so the queue hands the new ticket over at once.
    assert body["status"] == "open" and body["assignee"]["id"] == world.agent_a.id
    assert body["number"] >= 100001
    assert body["messages"][0]["body_html"] == "<p>My bill is wrong</p>"
    assert body["messages"][0]["body_text"] == "My bill is wrong"
    # The same phone in another spelling finds the same customer.
    r2 = api.post(
        "/api/v1/tickets",
        json={
            "subject": "Again",
            "department_id": world.dept_a.id,
            "customer": {"name": "W", "identities": [{"kind": "phone", "value": "+86 13800138000"}]},
        },
    )
    assert r2.json["customer"]["id"] == body["customer"]["id"]
    assert r2.json["number"] == body["number"] + 1
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "ticket.created")).all()
    assert {e.payload["ticket_id"] for e in events} == {body["id"], r2.json["id"]}
    assert f"department:{world.dept_a.id}" in events[0].rooms


def test_patch_changes_fields_audits_and_checks_version(world, login_as):
    api = login_as(world.agent_a)
    ticket = api.get(f"/api/v1/tickets/{world.ticket_a.id}").json
    r = api.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "status": "pending", "priority": "urgent", "assignee_id": world.agent_a.id},
    )
    assert r.status_code == 200, r.json
    assert r.json["status"] == "pending" and r.json["priority"] == "urgent" and r.json["assignee"]["id"] == world.agent_a.id
    assert r.json["version"] == ticket["version"] + 1
    # A second writer who read the old version loses, with a clear 409.
    stale = api.patch(f"/api/v1/tickets/{ticket['id']}", json={"version": ticket["version"], "priority": "low"})
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json["detail"]
    assert db.session.get(Ticket, ticket["id"]).priority.name == "URGENT"
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket["id"], AuditEvent.action == "ticket.updated")).one()
    assert audit.before == {"status": "open", "priority": "normal", "assignee_id": None}
    assert audit.after == {"status": "pending", "priority": "urgent", "assignee_id": world.agent_a.id}
    assert audit.actor_id == world.agent_a.id and audit.actor_via == "session"


def test_cannot_assign_agent_from_another_department(world, login_as):
    api = login_as(world.agent_a)
    r = api.patch(f"/api/v1/tickets/{world.ticket_a.id}", json={"version": world.ticket_a.version, "assignee_id": world.agent_b.id})
    assert r.status_code == 422
    assert "assignee_id" in r.json["errors"]


def test_reply_and_note(world, login_as):
    api = login_as(world.agent_a)
    reply = api.post(f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "reply", "body_text": "We refunded the roaming fee."})
    note = api.post(f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "note", "body_text": "Checked with billing."})
    assert reply.status_code == 201 and note.status_code == 201
    assert reply.json["direction"] == "outbound" and reply.json["delivery_status"] == "queued"
    assert note.json["direction"] == "note" and note.json["delivery_status"] == "none"
    ticket = db.session.get(Ticket, world.ticket_a.id)
    assert ticket.first_responded_at is not None
    empty = api.post(f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "reply", "body_text": "   "})
    assert empty.status_code == 422
    page = api.get(f"/api/v1/tickets/{world.ticket_a.id}/messages?limit=1").json
    assert [m["body_text"] for m in page["items"]] == ["We refunded the roaming fee."]
    page2 = api.get(f"/api/v1/tickets/{world.ticket_a.id}/messages?limit=1&cursor={page['next_cursor']}").json
    assert [m["body_text"] for m in page2["items"]] == ["Checked with billing."] and page2["next_cursor"] is None


def test_closed_ticket_is_frozen(world, login_as):
    api = login_as(world.agent_a)
    r = api.patch(f"/api/v1/tickets/{world.ticket_a.id}", json={"version": world.ticket_a.version, "status": "closed"})
    assert r.status_code == 200 and r.json["closed_at"]
    again = api.patch(f"/api/v1/tickets/{world.ticket_a.id}", json={"version": r.json["version"], "priority": "low"})
    assert again.status_code == 409
    assert db.session.scalar(select(Message).where(Message.ticket_id == world.ticket_a.id)) is None


def test_ticket_created_with_an_assignee_is_open(world, login_as):
    api = login_as(world.agent_a)
    r = api.post(
        "/api/v1/tickets",
        json={
            "subject": "Mine",
            "department_id": world.dept_a.id,
            "customer_id": world.ticket_a.customer_id,
            "assignee_id": world.agent_a.id,
        },
    )
    assert r.status_code == 201 and r.json["status"] == "open" and r.json["assignee"]["id"] == world.agent_a.id
