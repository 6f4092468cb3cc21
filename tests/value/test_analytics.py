"""Value analytics: segment sizes and value, tiers over time, the churn worklist and its follow-ups."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.customers.models import Tier
from service_hub.tickets.models import Channel, Ticket, TicketStatus, TicketTag
from service_hub.value.models import TierSnapshot, ValueRun
from tests.factories import CustomerFactory

URL = "/api/v1/value"


# --- segments ----------------------------------------------------------------------------------


@pytest.fixture
def segmented(world, make_run, make_score):
    run = make_run()
    rows = [
        ("important_value", "champions", 1000, 3000, None, 10.0),
        ("important_value", "loyal_customers", 2000, 100, 5000, 30.0),
        ("general_winback", "hibernating", 50, 100, None, 80.0),
        (None, None, 0, 0, None, 50.0),
    ]
    for seg8, seg10, monetary, clv_simple, clv_contract, risk in rows:
        make_score(
            CustomerFactory(),
            run,
            segment8=seg8,
            segment10=seg10,
            monetary=Decimal(monetary),
            clv_simple=Decimal(clv_simple),
            clv_contract=None if clv_contract is None else Decimal(clv_contract),
            churn_risk=risk,
        )
    survivor = CustomerFactory()
    tombstone = CustomerFactory(merged_into_id=survivor.id)
    make_score(tombstone, run, segment8="important_value", monetary=Decimal(99999))  # merged away: not counted
    db.session.commit()


def test_segment_sizes_and_value_match_the_rows(world, login_as, segmented):
    r = login_as(world.supervisor_a).get(f"{URL}/analytics/segments?model=8")
    assert r.status_code == 200, r.json
    body = r.json
    assert body["customers"] == 4 and body["total_monetary"] == 3050.0
    by_code = {(s["segment"] or {}).get("code"): s for s in body["segments"]}
    assert [s["segment"]["code"] for s in body["segments"][:8]] == [
        "important_value",
        "important_retain",
        "important_develop",
        "important_winback",
        "general_value",
        "general_retain",
        "general_develop",
        "general_winback",
    ]
    top = by_code["important_value"]
    assert top["segment"]["zh"] == "重要价值客户"
    assert (top["customers"], top["total_monetary"], top["avg_monetary"]) == (2, 3000.0, 1500.0)
    assert top["avg_clv"] == 4000.0  # the contract CLV where there is one: (3000 + 5000) / 2
    assert top["avg_churn_risk"] == 20.0
    assert top["share_of_customers"] == pytest.approx(0.5) and top["share_of_monetary"] == pytest.approx(3000 / 3050)
    winback = by_code["general_winback"]
    assert (winback["customers"], winback["total_monetary"], winback["avg_clv"], winback["avg_churn_risk"]) == (1, 50.0, 100.0, 80.0)
    assert by_code["important_retain"]["customers"] == 0 and by_code["important_retain"]["avg_monetary"] is None
    assert by_code[None]["customers"] == 1


def test_ten_segment_model(world, login_as, segmented):
    body = login_as(world.admin).get(f"{URL}/analytics/segments?model=10").json
    counts = {(s["segment"] or {}).get("code"): s["customers"] for s in body["segments"]}
    assert counts["champions"] == 1 and counts["loyal_customers"] == 1 and counts["hibernating"] == 1 and counts["at_risk"] == 0
    assert len(body["segments"]) == 11  # ten segments and the customers without one


def test_analytics_are_for_supervisors_and_admins(world, login_as):
    agent = login_as(world.agent_a)
    for path in ("/analytics/segments", "/analytics/tiers", "/churn-worklist"):
        assert agent.get(f"{URL}{path}").status_code == 403
    assert login_as(world.admin).get(f"{URL}/analytics/segments?model=9").status_code == 400


# --- tiers over time ---------------------------------------------------------------------------


def _snapshot(run_id: int, as_of: date, counts: dict[str, int]) -> None:
    db.session.add_all(TierSnapshot(run_id=run_id, as_of=as_of, tier=t, customers=n) for t, n in counts.items())


def test_tier_distribution_over_time_and_now(world, login_as, make_run):
    old, jan, feb_early, feb_late = (make_run(as_of=d) for d in (date(2025, 1, 1), date(2026, 1, 31), date(2026, 2, 28), date(2026, 2, 28)))
    _snapshot(old.id, old.as_of, {"diamond": 50})
    _snapshot(jan.id, jan.as_of, {"diamond": 1, "normal": 9})
    _snapshot(feb_early.id, feb_early.as_of, {"gold": 2, "normal": 8})
    _snapshot(feb_late.id, feb_late.as_of, {"gold": 3, "vip": 1, "normal": 6})
    CustomerFactory(tier=Tier.DIAMOND)
    survivor = CustomerFactory(tier=Tier.SILVER)
    CustomerFactory(tier=Tier.GOLD, merged_into_id=survivor.id)  # a tombstone is not a customer any more
    db.session.commit()

    r = login_as(world.supervisor_a).get(f"{URL}/analytics/tiers?from=2026-01-01&to=2026-03-01")
    assert r.status_code == 200, r.json
    series = r.json["series"]
    assert [p["as_of"] for p in series] == ["2026-01-31", "2026-02-28"]
    assert series[0]["tiers"] == {"diamond": 1, "gold": 0, "silver": 0, "vip": 0, "normal": 9}
    # Two runs on 28 February: the later one is the day's figure.
    assert series[1]["run_id"] == feb_late.id and series[1]["tiers"]["gold"] == 3 and series[1]["customers"] == 10
    current = r.json["current"]["tiers"]
    assert current["diamond"] == 1 and current["silver"] == 1 and current["gold"] == 0
    assert current["normal"] == 2  # the world's two ticket customers
    assert r.json["from"] == "2026-01-01" and r.json["to"] == "2026-03-01"

    everything = login_as(world.admin).get(f"{URL}/analytics/tiers?from=2024-01-01&to=2026-12-31").json["series"]
    assert [p["tiers"]["diamond"] for p in everything] == [50, 1, 0]
    assert login_as(world.admin).get(f"{URL}/analytics/tiers?from=2026-03-01&to=2026-01-01").status_code == 400


# --- the churn worklist ------------------------------------------------------------------------


@pytest.fixture
def worklist(world, make_score):
    """Five customers supervisor A may see, one (b1, riskiest) only centre B may see."""
    a1, a2, a3, a5 = (CustomerFactory(name=n) for n in ("A1", "A2", "A3", "A5"))
    a2.tier = Tier.NORMAL
    a1.tier = a3.tier = Tier.GOLD
    a4 = world.ticket_a.customer  # one open ticket in department A
    b1 = world.ticket_b.customer
    make_score(a1, churn_risk=90.0, lifecycle="repeat", churn_reasons="recency_rising,complaint")
    make_score(a2, churn_risk=70.0, lifecycle="churned")
    make_score(a3, churn_risk=70.0, lifecycle="repeat")
    make_score(a4, churn_risk=40.0, lifecycle="loyal", last_purchase_on=date(2026, 3, 3))
    make_score(a5, churn_risk=20.0, lifecycle="repeat")
    make_score(b1, churn_risk=95.0, lifecycle="repeat")
    db.session.commit()
    assert a2.id < a3.id
    return {"a1": a1, "a2": a2, "a3": a3, "a4": a4, "a5": a5, "b1": b1}


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json
    return [i["customer_id"] for i in response.json["items"]]


def test_worklist_is_riskiest_first_and_only_visible_customers(world, login_as, worklist):
    w = worklist
    supervisor = login_as(world.supervisor_a)
    r = supervisor.get(f"{URL}/churn-worklist")
    assert _ids(r) == [w["a1"].id, w["a2"].id, w["a3"].id, w["a4"].id, w["a5"].id]
    first = r.json["items"][0]
    assert first["name"] == "A1" and first["tier"] == "gold" and first["churn_reasons"] == ["recency_rising", "complaint"]
    assert first["value_index"] > 0 and first["explain_url"] == f"{URL}/customers/{w['a1'].id}"
    a4 = next(i for i in r.json["items"] if i["customer_id"] == w["a4"].id)
    assert a4["open_tickets"] == 1 and a4["last_purchase_on"] == "2026-03-03"
    assert r.json["next_cursor"] is None
    assert _ids(login_as(world.admin).get(f"{URL}/churn-worklist"))[:2] == [w["b1"].id, w["a1"].id]


def test_worklist_filters(world, login_as, worklist):
    w = worklist
    api = login_as(world.supervisor_a)
    assert _ids(api.get(f"{URL}/churn-worklist?min_risk=70")) == [w["a1"].id, w["a2"].id, w["a3"].id]
    assert _ids(api.get(f"{URL}/churn-worklist?tier=gold")) == [w["a1"].id, w["a3"].id]
    assert _ids(api.get(f"{URL}/churn-worklist?lifecycle=churned")) == [w["a2"].id]
    assert _ids(api.get(f"{URL}/churn-worklist?min_risk=30&lifecycle=repeat")) == [w["a1"].id, w["a3"].id]
    assert api.get(f"{URL}/churn-worklist?lifecycle=zombie").status_code == 400
    assert api.get(f"{URL}/churn-worklist?min_risk=101").status_code == 400


def test_worklist_pages_without_skips_or_repeats(world, login_as, worklist):
    """Pages of two: the boundary after A2 falls inside a tie (A2 and A3 both at 70)."""
    api = login_as(world.supervisor_a)
    seen, cursor, pages = [], None, 0
    while True:
        r = api.get(f"{URL}/churn-worklist?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += _ids(r)
        pages += 1
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == _ids(api.get(f"{URL}/churn-worklist"))
    assert len(seen) == len(set(seen)) == 5
    assert api.get(f"{URL}/churn-worklist?cursor=not-a-cursor").status_code == 400


# --- follow-up tickets -------------------------------------------------------------------------


def _follow_ups(customer_ids: list[int] | None = None) -> list[Ticket]:
    query = select(Ticket).join(TicketTag).where(TicketTag.tag == "retention-follow-up").order_by(Ticket.id)
    return [t for t in db.session.scalars(query) if customer_ids is None or t.customer_id in customer_ids]


def test_bulk_follow_ups_open_tagged_tickets_and_skip_on_retry(world, login_as, worklist):
    w = worklist
    api = login_as(world.supervisor_a)
    body = {"customer_ids": [w["a1"].id, w["a2"].id, w["b1"].id], "department_id": world.dept_a.id, "subject": "Call back {name} ({tier})"}
    r = api.post(f"{URL}/churn-worklist/follow-ups", json=body)
    assert r.status_code == 200, r.json
    assert len(r.json["created"]) == 2
    assert r.json["skipped"] == [{"customer_id": w["b1"].id, "reason": "not_found"}]
    tickets = _follow_ups()
    assert sorted(t.id for t in tickets) == sorted(r.json["created"])
    assert {t.customer_id for t in tickets} == {w["a1"].id, w["a2"].id}
    first = next(t for t in tickets if t.customer_id == w["a1"].id)
    assert first.subject == "Call back A1 (gold)" and first.channel == Channel.PHONE and first.department_id == world.dept_a.id
    assert first.custom_fields["source"] == "churn-worklist" and first.custom_fields["churn_reasons"] == ["recency_rising", "complaint"]
    created_events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "ticket.created")).all()
    assert {e.payload["ticket_id"] for e in created_events} >= set(r.json["created"])

    again = api.post(f"{URL}/churn-worklist/follow-ups", json=body)
    assert again.status_code == 200 and again.json["created"] == []
    assert {(s["customer_id"], s["reason"]) for s in again.json["skipped"]} == {
        (w["a1"].id, "open_follow_up"),
        (w["a2"].id, "open_follow_up"),
        (w["b1"].id, "not_found"),
    }
    assert len(_follow_ups()) == 2

    # Once A1's follow-up is solved, a new one may be opened.
    first.status = TicketStatus.SOLVED
    db.session.commit()
    third = api.post(f"{URL}/churn-worklist/follow-ups", json=body)
    assert len(third.json["created"]) == 1
    assert _follow_ups([w["a1"].id])[-1].id == third.json["created"][0]


def test_follow_ups_from_the_worklist_filter(world, login_as, worklist):
    w = worklist
    api = login_as(world.admin)
    body = {"filter": {"min_risk": 60, "tier": "gold"}, "department_id": world.dept_a.id}
    r = api.post(f"{URL}/churn-worklist/follow-ups", json=body)
    assert r.status_code == 200, r.json
    assert sorted(t.customer_id for t in _follow_ups()) == sorted([w["a1"].id, w["a3"].id])
    assert _follow_ups([w["a1"].id])[0].subject == "Retention follow-up: A1"
    limited = api.post(f"{URL}/churn-worklist/follow-ups", json={"filter": {"min_risk": 60, "limit": 2}, "department_id": world.dept_a.id})
    # The two riskiest are B1 (new) and A1 (already open).
    assert len(limited.json["created"]) == 1 and limited.json["skipped"] == [{"customer_id": w["a1"].id, "reason": "open_follow_up"}]
    assert _follow_ups([w["b1"].id])


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"subject": "Hello {name.__class__}"}, 422),
        ({"subject": "Hello {password}"}, 422),
        ({"subject": "Hello {name"}, 422),
        ({"filter": {"min_risk": 50}}, 422),  # both customer_ids and filter
        ({"customer_ids": list(range(1, 502))}, 422),
        ({"department_id": None}, 422),
    ],
)
def test_follow_up_requests_that_are_refused(world, login_as, worklist, changes, status):
    body = {"customer_ids": [worklist["a1"].id], "department_id": world.dept_a.id} | changes
    r = login_as(world.supervisor_a).post(f"{URL}/churn-worklist/follow-ups", json=body)
    assert r.status_code == status, r.json
    assert _follow_ups() == []


def test_follow_ups_only_in_your_departments_and_only_for_supervisors(world, login_as, worklist):
    body = {"customer_ids": [worklist["a1"].id], "department_id": world.dept_b.id}
    r = login_as(world.supervisor_a).post(f"{URL}/churn-worklist/follow-ups", json=body)
    assert r.status_code == 422 and "department_id" in r.json["errors"]["json"]
    r = login_as(world.agent_a).post(f"{URL}/churn-worklist/follow-ups", json=body | {"department_id": world.dept_a.id})
    assert r.status_code == 403
    assert _follow_ups() == []
    assert db.session.scalars(select(ValueRun)).all()  # the fixture's runs are still there (nothing rolled back too far)
