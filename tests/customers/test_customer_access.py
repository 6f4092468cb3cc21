"""Department scope on every customer path: a customer seen only through department B's tickets
does not exist for department A (404, absent from search), by every path."""

from __future__ import annotations

from service_hub.core.extensions import db
from service_hub.customers.models import Customer
from tests.factories import CustomerFactory, TicketFactory


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_agent_of_a_cannot_read_a_customer_of_b(world, api_as):
    bob_id, alice_id = world.bob.id, world.alice.id
    api = api_as(world.agent_a)
    r = api.get(f"/api/v1/customers/{bob_id}")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    assert "Bob" not in r.get_data(as_text=True)
    assert api.get(f"/api/v1/customers/{alice_id}").status_code == 200


def test_agent_of_a_cannot_find_a_customer_of_b_by_any_search(world, api_as):
    bob_id, alice_id = world.bob.id, world.alice.id
    api = api_as(world.agent_a)
    assert bob_id not in _ids(api.get("/api/v1/customers"))
    assert alice_id in _ids(api.get("/api/v1/customers"))
    for q in ("Bob", "C-BOB", "bob@mail.test", "BOB@MAIL.TEST"):
        assert _ids(api.get("/api/v1/customers", query_string={"q": q})) == [], q
    # The same searches find Bob for someone who may see department B.
    other = api_as(world.supervisor_b)
    for q in ("Bob", "C-BOB", "BOB@MAIL.TEST"):
        assert _ids(other.get("/api/v1/customers", query_string={"q": q})) == [bob_id], q


def test_agent_of_a_cannot_patch_or_touch_identities_of_a_customer_of_b(world, api_as):
    bob_id, mail_id = world.bob.id, world.bob_mail.id
    api = api_as(world.agent_a)
    assert api.patch(f"/api/v1/customers/{bob_id}", json={"name": "Hijacked"}).status_code == 404
    assert api.post(f"/api/v1/customers/{bob_id}/identities", json={"kind": "email", "value": "x@y.test"}).status_code == 404
    assert api.delete(f"/api/v1/customers/{bob_id}/identities/{mail_id}").status_code == 404
    db.session.expire_all()
    bob = db.session.get(Customer, bob_id)
    assert bob.name == "Bob Li" and [i.id for i in bob.identities] == [mail_id]


def test_supervisor_of_a_cannot_merge_with_a_customer_of_b_either_way(world, api_as):
    bob_id, alice_id = world.bob.id, world.alice.id
    api = api_as(world.supervisor_a)
    assert api.post(f"/api/v1/customers/{alice_id}/merge", json={"source_id": bob_id}).status_code == 404
    assert api.post(f"/api/v1/customers/{bob_id}/merge", json={"source_id": alice_id}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Customer, bob_id).merged_into_id is None
    assert db.session.get(Customer, alice_id).merged_into_id is None


def test_ticket_history_shows_only_visible_tickets(world, api_as):
    # Alice also has a ticket in B: A's agent sees Alice, but only A's ticket.
    b_ticket = TicketFactory(customer=world.alice, department=world.dept_b)
    alice_id, a_ticket_id, b_ticket_id = world.alice.id, world.alice_ticket.id, b_ticket.id
    body = api_as(world.agent_a).get(f"/api/v1/customers/{alice_id}").json
    assert [t["id"] for t in body["tickets"]] == [a_ticket_id]
    admin_body = api_as(world.admin).get(f"/api/v1/customers/{alice_id}").json
    assert sorted(t["id"] for t in admin_body["tickets"]) == sorted([a_ticket_id, b_ticket_id])


def test_customer_without_tickets_is_visible_to_everyone(world, api_as):
    fresh = CustomerFactory(name="New Contact")
    fresh_id = fresh.id
    assert api_as(world.agent_a).get(f"/api/v1/customers/{fresh_id}").status_code == 200


def test_tombstone_is_as_visible_as_its_survivor(world, api_as):
    # Bob2 (department B) is merged into Bob; the tombstone has no tickets left, which alone
    # would make it visible to everyone. It must stay hidden from department A.
    bob2 = CustomerFactory(name="Bob Li (dup)")
    TicketFactory(customer=bob2, department=world.dept_b)
    bob_id, bob2_id = world.bob.id, bob2.id
    merged = api_as(world.supervisor_b).post(f"/api/v1/customers/{bob_id}/merge", json={"source_id": bob2_id})
    assert merged.status_code == 200, merged.json
    api = api_as(world.agent_a)
    assert api.get(f"/api/v1/customers/{bob2_id}").status_code == 404
    assert bob2_id not in _ids(api.get("/api/v1/customers", query_string={"include_merged": "true"}))
    tomb = api_as(world.supervisor_b).get(f"/api/v1/customers/{bob2_id}")
    assert tomb.status_code == 200 and tomb.json["merged_into_id"] == bob_id
