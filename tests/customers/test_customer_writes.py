"""Create, update and identities: normalised values, 409 on duplicates without leaking the
holder, refused fields, an audit trail, and the token scopes."""

from __future__ import annotations

from sqlalchemy import select

from service_hub.auth import operations as auth_operations
from service_hub.core.extensions import db
from service_hub.customers.models import ContactIdentity, Customer, Tier
from service_hub.tickets.models import AuditEvent


def test_create_normalises_identities(world, api_as):
    api = api_as(world.agent_a)
    r = api.post(
        "/api/v1/customers",
        json={
            "name": "  Dan Zhou ",
            "customer_number": "C-DAN",
            "language": "zh",
            "notes": "new",
            "identities": [
                {"kind": "phone", "value": "139 1234 5678"},
                {"kind": "email", "value": "Dan.Zhou@Example.COM"},
                {"kind": "wechat", "account": "wx-app", "value": "oDanOpenId"},
            ],
        },
    )
    assert r.status_code == 201, r.json
    body = r.json
    assert body["name"] == "Dan Zhou" and body["tier"] == "normal" and body["tickets"] == []
    assert [(i["kind"], i["account"], i["value"]) for i in body["identities"]] == [
        ("phone", "", "+8613912345678"),
        ("email", "", "dan.zhou@example.com"),
        ("wechat", "wx-app", "oDanOpenId"),
    ]
    assert body["identities"][0]["display_value"] == "139 1234 5678"
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.customer_id == body["id"])).one()
    assert created.action == "customer.created"


def test_create_refuses_tier_and_unknown_fields(world, api_as):
    api = api_as(world.agent_a)
    for extra in ({"tier": "diamond"}, {"merged_into_id": 1}, {"attributes": {"vip": True}}):
        r = api.post("/api/v1/customers", json={"name": "Eve"} | extra)
        assert r.status_code == 422, extra
        assert next(iter(extra)) in r.json["errors"]["json"]
    # Verified is earned by a channel proving the contact, not claimed by whoever types it in.
    r = api.post("/api/v1/customers", json={"name": "Eve", "identities": [{"kind": "phone", "value": "13912345678", "verified": True}]})
    assert r.status_code == 422 and "verified" in str(r.json["errors"])
    assert db.session.scalars(select(Customer).where(Customer.name == "Eve")).first() is None


def test_create_refuses_bad_identities(world, api_as):
    api = api_as(world.agent_a)
    assert api.post("/api/v1/customers", json={"name": "F", "identities": [{"kind": "phone", "value": "call me"}]}).status_code == 422
    assert api.post("/api/v1/customers", json={"name": "F", "identities": [{"kind": "email", "value": "no-at-sign"}]}).status_code == 422
    assert api.post("/api/v1/customers", json={"name": "F", "identities": [{"kind": "fax", "value": "1"}]}).status_code == 422
    twice = [{"kind": "phone", "value": "13912345678"}, {"kind": "phone", "value": "+86 139 1234 5678"}]
    assert api.post("/api/v1/customers", json={"name": "F", "identities": twice}).status_code == 422


def test_duplicate_identity_is_409_naming_only_what_the_caller_may_see(world, api_as):
    bob_id, alice_id = world.bob.id, world.alice.id
    api = api_as(world.agent_a)
    # Bob is department B's: the conflict names the identity but not Bob.
    r = api.post("/api/v1/customers", json={"name": "Impostor", "identities": [{"kind": "email", "value": "BOB@mail.test"}]})
    assert r.status_code == 409
    assert "bob@mail.test" in r.json["detail"]
    text = r.get_data(as_text=True)
    assert "Bob Li" not in text and "customer_id" not in r.json["errors"]["identity"] and f"customer {bob_id}" not in text
    # Alice is visible: the conflict points at her so the agent can open or merge.
    r = api.post("/api/v1/customers", json={"name": "Twin", "identities": [{"kind": "phone", "value": "138-0013-8000"}]})
    assert r.status_code == 409
    assert r.json["errors"]["identity"] == {"kind": "phone", "account": "", "value": "+8613800138000", "customer_id": alice_id}
    assert db.session.scalars(select(Customer).where(Customer.name.in_(["Impostor", "Twin"]))).first() is None


def test_duplicate_customer_number_is_409(world, api_as):
    r = api_as(world.agent_a).post("/api/v1/customers", json={"name": "G", "customer_number": "C-BOB"})
    assert r.status_code == 409 and "customer_number" in r.json["errors"]


def test_patch_changes_allowed_fields_and_is_audited(world, api_as):
    alice_id, agent_id = world.alice.id, world.agent_a.id
    api = api_as(world.agent_a)
    r = api.patch(f"/api/v1/customers/{alice_id}", json={"name": "Alice W.", "language": "en", "notes": None, "customer_number": "C-1"})
    assert r.status_code == 200, r.json
    assert (r.json["name"], r.json["language"], r.json["customer_number"]) == ("Alice W.", "en", "C-1")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.customer_id == alice_id, AuditEvent.action == "customer.updated")).one()
    assert event.actor_id == agent_id and event.actor_via == "session"
    # Only what changed (notes was already empty).
    assert event.before == {"name": "Alice Wang", "language": None, "customer_number": None}
    assert event.after == {"name": "Alice W.", "language": "en", "customer_number": "C-1"}


def test_patch_refuses_tier_and_a_taken_number(world, api_as):
    alice_id = world.alice.id
    api = api_as(world.admin)
    r = api.patch(f"/api/v1/customers/{alice_id}", json={"tier": "diamond"})
    assert r.status_code == 422 and "tier" in r.json["errors"]["json"]
    assert api.patch(f"/api/v1/customers/{alice_id}", json={"customer_number": "C-BOB"}).status_code == 409
    assert api.patch(f"/api/v1/customers/{alice_id}", json={"name": ""}).status_code == 422
    db.session.expire_all()
    assert db.session.get(Customer, alice_id).tier == Tier.NORMAL


def test_add_and_remove_identities(world, api_as):
    alice_id, phone_id, bob_id = world.alice.id, world.alice_phone.id, world.bob.id
    api = api_as(world.agent_a)
    r = api.post(f"/api/v1/customers/{alice_id}/identities", json={"kind": "whatsapp", "value": "+44 20 7946 0958"})
    assert r.status_code == 201, r.json
    assert r.json["value"] == "+442079460958"
    new_id = r.json["id"]
    # Again: already hers. Bob's email: someone else's, not named.
    r = api.post(f"/api/v1/customers/{alice_id}/identities", json={"kind": "whatsapp", "value": "+442079460958"})
    assert r.status_code == 409 and "this customer" in r.json["detail"]
    r = api.post(f"/api/v1/customers/{alice_id}/identities", json={"kind": "email", "value": "bob@mail.test"})
    assert r.status_code == 409 and str(bob_id) not in r.json["detail"]

    assert api.delete(f"/api/v1/customers/{alice_id}/identities/{phone_id}").status_code == 204
    # An identity of another customer cannot be removed through this one.
    bob_mail_id = world.bob_mail.id
    assert api.delete(f"/api/v1/customers/{alice_id}/identities/{bob_mail_id}").status_code == 404
    db.session.expire_all()
    assert [i.id for i in db.session.get(Customer, alice_id).identities] == [new_id]
    assert db.session.get(ContactIdentity, bob_mail_id) is not None
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.customer_id == alice_id).order_by(AuditEvent.id)).all()
    assert actions == ["customer.identity_added", "customer.identity_removed"]


def test_token_scopes(world, client):
    alice_id = world.alice.id
    _, read_only = auth_operations.create_token(world.agent_a, "crm-sync", ["customers:read"], None)
    _, tickets_only = auth_operations.create_token(world.agent_a, "bot", ["tickets:read"], None)
    _, writer = auth_operations.create_token(world.agent_a, "crm-write", ["customers:read", "customers:write"], None)
    db.session.commit()

    def auth(secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    assert client.get(f"/api/v1/customers/{alice_id}", headers=auth(read_only)).status_code == 200
    assert client.get("/api/v1/customers", headers=auth(tickets_only)).status_code == 403
    assert client.patch(f"/api/v1/customers/{alice_id}", json={"name": "X"}, headers=auth(read_only)).status_code == 403
    assert client.post("/api/v1/customers", json={"name": "X"}, headers=auth(read_only)).status_code == 403
    r = client.patch(f"/api/v1/customers/{alice_id}", json={"language": "fr"}, headers=auth(writer))
    assert r.status_code == 200
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.customer_id == alice_id)).one()
    assert event.actor_via == "token"
