"""GET /api/v1/customers: search by name, number or identity in any spelling; keyset pages."""

from __future__ import annotations

from service_hub.customers.models import IdentityKind, Tier
from tests.factories import CustomerFactory, IdentityFactory


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_search_by_phone_in_another_format(world, api_as):
    alice_id = world.alice.id
    api = api_as(world.agent_a)
    for q in ("138 0013 8000", "13800138000", "+86 138-0013-8000", "+8613800138000"):
        r = api.get("/api/v1/customers", query_string={"q": q})
        assert _ids(r) == [alice_id], q
    item = r.json["items"][0]
    assert item["identities"] == [
        {
            "id": world.alice_phone.id,
            "kind": "phone",
            "account": "",
            "value": "+8613800138000",
            "display_value": None,
            "verified": False,
            "created_at": item["identities"][0]["created_at"],
        }
    ]
    assert item["tier"] == "normal"


def test_search_by_name_case_insensitive_number_exact_and_other_identity_kinds(world, api_as):
    carol = CustomerFactory(name="Carol 100% Real", customer_number="N-77")
    IdentityFactory(customer=carol, kind=IdentityKind.WECHAT, account="wx-app-1", value="oAbC123openid")
    carol_id = carol.id
    api = api_as(world.admin)
    assert _ids(api.get("/api/v1/customers", query_string={"q": "carol"})) == [carol_id]
    assert _ids(api.get("/api/v1/customers", query_string={"q": "100%"})) == [carol_id]
    assert _ids(api.get("/api/v1/customers", query_string={"q": "N-77"})) == [carol_id]
    assert _ids(api.get("/api/v1/customers", query_string={"q": "N-7"})) == []  # numbers match exactly
    assert _ids(api.get("/api/v1/customers", query_string={"q": "oAbC123openid"})) == [carol_id]
    assert _ids(api.get("/api/v1/customers", query_string={"q": "oabc123openid"})) == []  # social ids verbatim
    # A wildcard is a literal character, not "anything".
    assert _ids(api.get("/api/v1/customers", query_string={"q": "_"})) == []


def test_filter_by_tier(world, api_as):
    gold = CustomerFactory(name="Gold Member", tier=Tier.GOLD)
    gold_id = gold.id
    api = api_as(world.admin)
    assert _ids(api.get("/api/v1/customers", query_string={"tier": "gold"})) == [gold_id]
    assert api.get("/api/v1/customers", query_string={"tier": "platinum"}).status_code == 400


def test_sql_looking_query_is_just_text(world, api_as):
    api = api_as(world.agent_a)
    for q in ("' OR 1=1 --", '" OR ""="', "1; DROP TABLE customers; --", "%' OR name LIKE '%"):
        r = api.get("/api/v1/customers", query_string={"q": q})
        assert r.status_code == 200, (q, r.json)
        assert r.json["items"] == [], q
    assert world.alice.id in _ids(api.get("/api/v1/customers"))  # the table is still there


def test_unknown_query_parameter_is_refused(world, api_as):
    # Refused, not ignored: a client that thinks it filtered by department must learn it did not.
    # A bad query string is a malformed request, 400, app-wide (core/errors.py).
    r = api_as(world.agent_a).get("/api/v1/customers", query_string={"q": "Alice", "department_id": "1"})
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert "department_id" in r.json["errors"]["query"]


def test_keyset_pages_and_cursor(world, api_as):
    made = [CustomerFactory(name=f"Pager {n}").id for n in range(5)]
    api = api_as(world.admin)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"q": "Pager", "limit": 2} | ({"cursor": cursor} if cursor else {})
        r = api.get("/api/v1/customers", query_string=params)
        seen += _ids(r)
        pages += 1
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    assert seen == made and pages == 3


def test_malformed_cursor_is_400(world, api_as):
    api = api_as(world.agent_a)
    for cursor in ("not base64!", "QUJD", "%%%", "LTE"):  # "QUJD" is "ABC", "LTE" is "-1"
        r = api.get("/api/v1/customers", query_string={"cursor": cursor})
        assert r.status_code == 400, cursor
        assert r.json["type"].endswith("invalid-cursor")


def test_limit_is_bounded(world, api_as):
    api = api_as(world.agent_a)
    assert api.get("/api/v1/customers", query_string={"limit": 0}).status_code == 400
    assert api.get("/api/v1/customers", query_string={"limit": 1000}).status_code == 400


def test_search_is_one_query_per_page_plus_identities(app, world, api_as):
    from sqlalchemy import event

    from service_hub.core.extensions import db

    for n in range(6):
        c = CustomerFactory(name=f"Many {n}")
        IdentityFactory(customer=c)
        IdentityFactory(customer=c)
    api = api_as(world.admin)
    api.get("/api/v1/customers")  # warm up: login, scope
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "customers" in statement or "contact_identities" in statement:
            statements.append(statement)

    db.session.expire_all()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        r = api.get("/api/v1/customers", query_string={"q": "Many"})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(r.json["items"]) == 6
    assert len(statements) <= 2, statements
