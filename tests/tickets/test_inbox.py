"""The inbox list: keyset pages equal one full sorted read, filters are parameterised, unknown ones refused."""

from datetime import UTC, datetime, timedelta

import pytest

from service_hub.tickets.models import Priority, TicketStatus
from tests.factories import TicketFactory

BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def many(world):
    rng = __import__("random").Random(7)
    tickets = []
    for i in range(57):
        due = None if i % 5 == 0 else BASE + timedelta(minutes=rng.choice([10, 20, 30]))  # ties and NULLs on purpose
        tickets.append(
            TicketFactory(
                department=world.dept_a,
                priority=rng.choice(list(Priority)),
                status=rng.choice(list(TicketStatus)),
                next_due_at=due,
                created_at=BASE + timedelta(minutes=rng.choice([1, 2, 3])),
            )
        )
    return [world.ticket_a, *tickets]


def _walk(api, query, limit):
    seen, cursor = [], None
    for _ in range(100):
        url = f"/api/v1/tickets?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = api.get(url)
        assert r.status_code == 200, r.json
        seen.extend(t["id"] for t in r.json["items"])
        cursor = r.json["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def _expected(tickets, sort):
    far = datetime.max.replace(tzinfo=UTC)
    keys = {
        "priority": lambda t: (-int(t.priority), t.next_due_at or far, t.id),
        "due": lambda t: (t.next_due_at or far, t.id),
        "created": lambda t: (t.created_at, t.id),
        "-created": lambda t: (-t.created_at.timestamp(), -t.id),
    }
    return [t.id for t in sorted(tickets, key=keys[sort])]


@pytest.mark.parametrize("sort", ["priority", "due", "created", "-created"])
@pytest.mark.parametrize("limit", [1, 7, 25])
def test_keyset_pages_equal_one_sorted_read(many, login_as, world, sort, limit):
    api = login_as(world.agent_a)
    assert _walk(api, f"sort={sort}", limit) == _expected(many, sort)


def test_active_filter_and_status_list(many, login_as, world):
    api = login_as(world.agent_a)
    active = {t.id for t in many if t.status.value in {"new", "open", "pending", "on_hold"}}
    assert set(_walk(api, "status=active", 25)) == active
    solved_or_closed = {t.id for t in many if t.status.value in {"solved", "closed"}}
    assert set(_walk(api, "status=solved&status=closed", 25)) == solved_or_closed


def test_assignee_filters(world, login_as):
    mine = TicketFactory(department=world.dept_a, assignee=world.agent_a)
    api = login_as(world.agent_a)
    assert {t["id"] for t in api.get("/api/v1/tickets?assignee=me").json["items"]} == {mine.id}
    assert {t["id"] for t in api.get("/api/v1/tickets?assignee=none").json["items"]} == {world.ticket_a.id}


def test_search_by_number_text_and_customer(world, login_as):
    api = login_as(world.agent_a)
    for q in (str(world.ticket_a.number), f"%23{world.ticket_a.number}", "roaming", world.ticket_a.customer.name):
        assert [t["id"] for t in api.get(f"/api/v1/tickets?q={q}").json["items"]] == [world.ticket_a.id], q


@pytest.mark.parametrize(
    "query",
    [
        "priority__gte=high",
        "status[ne]=closed",
        "order_by=id;DROP TABLE tickets",
        "sort=id desc",
        "limit=1000",
        "status=open' OR '1'='1",
        "priority=1",
    ],
)
def test_unknown_filters_and_operators_are_400(world, login_as, query):
    r = login_as(world.agent_a).get(f"/api/v1/tickets?{query}")
    assert r.status_code == 400, r.json
    assert r.mimetype == "application/problem+json" and r.json["errors"]


def test_sql_in_values_is_just_text(world, login_as):
    api = login_as(world.agent_a)
    for q in ("' OR 1=1 --", "%", "_", "\\"):
        r = api.get("/api/v1/tickets", query_string={"q": q})
        assert r.status_code == 200 and r.json["items"] == [], q


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJ4Il0", "eyJhIjoxfQ"])
def test_malformed_cursor_is_400(world, login_as, cursor):
    r = login_as(world.agent_a).get(f"/api/v1/tickets?cursor={cursor}")
    assert r.status_code == 400 and r.json["type"].endswith("invalid-cursor")


def test_fast_list_rows_equal_the_documented_schema(world, login_as):
    """The inbox builds its rows by hand for speed; they must stay what TicketListItem documents."""
    from service_hub.core.extensions import db
    from service_hub.tickets.models import Ticket, TicketTag
    from service_hub.tickets.schemas import TicketListItem

    TicketFactory(department=world.dept_a, assignee=world.agent_a, next_due_at=BASE, tag_rows=[TicketTag(tag="vip"), TicketTag(tag="5g")])
    listed = login_as(world.agent_a).get("/api/v1/tickets?sort=created").json["items"]
    assert len(listed) == 2
    for item in listed:
        assert item == TicketListItem().dump(db.session.get(Ticket, item["id"]))
