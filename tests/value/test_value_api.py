"""The value API: the model (read, change, validate, versions) and a customer's value explained."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from service_hub.auth.operations import create_token
from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.customers.models import Tier
from service_hub.value import scoring
from service_hub.value.ahp import analyse
from service_hub.value.config import DEFAULT_MODEL, parse
from service_hub.value.models import TierChange, Transaction, ValueModelRow
from tests.factories import CustomerFactory

URL = "/api/v1/value"
# Current value judged far above the others, yet potential above relationship only weakly and
# relationship above current: a contradiction AHP must refuse.
INCONSISTENT = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
CONSISTENT = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _global_weights(view: dict) -> list[float]:
    return [i["global_weight"] for c in view["weights"]["criteria"] for i in c["indicators"]]


# --- the model ---------------------------------------------------------------------------------


def test_get_model_without_versions_is_the_default(world, login_as):
    r = login_as(world.supervisor_a).get(f"{URL}/model")
    assert r.status_code == 200
    body = r.json
    assert body["version"] == 0 and body["active"] is True
    assert body["document"] == json.loads(json.dumps(DEFAULT_MODEL.to_document()))
    assert sum(c["weight"] for c in body["weights"]["criteria"]) == pytest.approx(1.0)
    assert sum(_global_weights(body)) == pytest.approx(1.0)
    for criterion in body["weights"]["criteria"]:
        assert sum(i["local_weight"] for i in criterion["indicators"]) == pytest.approx(1.0)
        assert 0 <= criterion["consistency_ratio"] < 0.1
    expected = analyse(DEFAULT_MODEL.criteria_matrix)
    assert body["weights"]["criteria_matrix"]["consistency_ratio"] == pytest.approx(expected.consistency_ratio)
    assert [c["weight"] for c in body["weights"]["criteria"]] == pytest.approx(list(expected.weights))


def test_inconsistent_matrix_is_422_with_its_cr_and_nothing_is_stored(world, login_as):
    api = login_as(world.admin)
    cr = analyse(INCONSISTENT).consistency_ratio
    r = api.put(f"{URL}/model", json={"criteria_matrix": INCONSISTENT})
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    assert f"CR = {cr:.3f}" in r.json["detail"]
    assert "criteria_matrix" in r.json["errors"]["json"]
    assert r.json["errors"]["consistency_ratio"] == pytest.approx(cr, abs=1e-4)
    assert db.session.scalars(select(ValueModelRow)).all() == []
    # An inconsistent indicator matrix points at criteria.
    doc = DEFAULT_MODEL.to_document()
    doc["criteria"][1]["matrix"] = [[1, 9], [1 / 9, 1]]  # fine: two items are always consistent
    doc["criteria"][0]["matrix"] = INCONSISTENT
    r = api.put(f"{URL}/model", json={"criteria": doc["criteria"]})
    assert r.status_code == 422 and "current matrix" in r.json["detail"] and "criteria" in r.json["errors"]["json"]


def test_consistent_model_becomes_the_active_newest_version(world, login_as):
    api = login_as(world.admin)
    r = api.put(f"{URL}/model", json={"criteria_matrix": CONSISTENT})
    assert r.status_code == 200, r.json
    assert r.json["version"] == 1 and r.json["active"] is True
    got = api.get(f"{URL}/model").json
    assert got["version"] == 1
    assert got["document"]["criteria_matrix"] == CONSISTENT
    assert [c["weight"] for c in got["weights"]["criteria"]] == pytest.approx([0.637, 0.258, 0.105], abs=5e-4)
    assert sum(_global_weights(got)) == pytest.approx(1.0)
    row = db.session.scalars(select(ValueModelRow)).one()
    assert row.created_by_id == world.admin.id and parse(row.document).criteria_matrix == tuple(tuple(r) for r in CONSISTENT)
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "value.model.changed")).one()
    assert event.rooms == ["supervisors"] and event.payload["version"] == 1 and event.payload["previous_version"] == 0

    assert api.put(f"{URL}/model", json={"margin": 0.4}).json["version"] == 2
    versions = api.get(f"{URL}/model/versions").json
    assert [v["version"] for v in versions] == [2, 1]
    assert [v["active"] for v in versions] == [True, False]
    assert api.get(f"{URL}/model/versions/1").json["document"]["margin"] == DEFAULT_MODEL.margin
    assert api.get(f"{URL}/model/versions/0").json["active"] is False
    assert api.get(f"{URL}/model/versions/9").status_code == 404


def test_a_partial_document_keeps_the_defaults(world, login_as):
    api = login_as(world.admin)
    api.put(f"{URL}/model", json={"criteria_matrix": CONSISTENT})
    r = api.put(f"{URL}/model", json={"margin": 0.4, "window_days": 180})
    assert r.status_code == 200
    document = api.get(f"{URL}/model").json["document"]
    assert document["margin"] == 0.4 and document["window_days"] == 180
    # Left out means the default, not the previous version's setting.
    assert document["criteria_matrix"] == [list(row) for row in DEFAULT_MODEL.criteria_matrix]
    assert document["lifespan_years"] == DEFAULT_MODEL.lifespan_years
    assert document["tier_rules"] == DEFAULT_MODEL.to_document()["tier_rules"]


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        ({"colour": "blue"}, "colour", "Unknown setting"),
        ({"margin": 2}, "margin", "between 0 and 1"),
        (
            {"tier_rules": [{"tier": "gold", "basis": "index", "minimum": 60}, {"tier": "diamond", "basis": "index", "minimum": 80}]},
            "tier_rules",
            "best tier first",
        ),
        ({"criteria_matrix": [[1, 2], [0.5, 1]]}, "criteria_matrix", "3 x 3"),
    ],
)
def test_unusable_documents_name_the_field(world, login_as, document, field, words):
    r = login_as(world.admin).put(f"{URL}/model", json=document)
    assert r.status_code == 422
    assert words in r.json["detail"]
    assert list(r.json["errors"]["json"]) == [field]


def test_validate_is_a_dry_run(world, login_as):
    api = login_as(world.supervisor_a)
    bad = api.post(f"{URL}/model/validate", json={"criteria_matrix": INCONSISTENT})
    assert bad.status_code == 422 and f"CR = {analyse(INCONSISTENT).consistency_ratio:.3f}" in bad.json["detail"]
    good = api.post(f"{URL}/model/validate", json={"criteria_matrix": CONSISTENT})
    assert good.status_code == 200
    assert good.json["version"] is None and good.json["active"] is False
    assert sum(_global_weights(good.json)) == pytest.approx(1.0)
    assert db.session.scalars(select(ValueModelRow)).all() == []
    assert api.get(f"{URL}/model").json["version"] == 0


def test_only_admins_change_the_model(world, login_as):
    for agent in (world.supervisor_a, world.agent_a):
        r = login_as(agent).put(f"{URL}/model", json={"margin": 0.4})
        assert r.status_code == 403
    assert login_as(world.agent_a).get(f"{URL}/model").status_code == 403
    _, read_only = create_token(world.admin, "dash", ["value:read"], None)
    _, writer = create_token(world.admin, "ops", ["value:read", "value:write"], None)
    assert login_as(world.admin).client.put(f"{URL}/model", json={"margin": 0.4}, headers=_bearer(read_only)).status_code == 403
    r = login_as(world.admin).client.put(f"{URL}/model", json={"margin": 0.4}, headers=_bearer(writer))
    assert r.status_code == 200 and r.json["version"] == 1
    assert db.session.scalars(select(ValueModelRow.version)).all() == [1]


# --- a customer explained ----------------------------------------------------------------------


@pytest.fixture
def scored(world, make_run, make_score):
    """ticket_a's customer (visible in department A) with a full row and tier history."""
    customer = world.ticket_a.customer
    customer.tier = Tier.GOLD
    run = make_run()
    score = make_score(
        customer,
        run,
        recency_days=210,
        first_purchase_on=date(2024, 1, 1),
        last_purchase_on=date(2025, 12, 1),
        lifetime_purchases=8,  # 700 days over 7 gaps: a usual gap of 100 days
        purchases_recent=1,
        purchases_prior=4,
        spend_recent=100,
        spend_prior=400,
        complaints_recent=3,
        churn_risk=90.0,
        churn_reasons="recency_rising,frequency_falling,spend_falling,complaint",
        segment8="important_winback",
        segment10="cant_lose",
        lifecycle="repeat",
        tier="gold",
        tier_rule="gold: index >= 65",
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(22):
        db.session.add(
            TierChange(
                customer_id=customer.id,
                from_tier="silver" if i % 2 else "gold",
                to_tier="gold" if i % 2 else "silver",
                rule=f"rule {i}",
                run_id=run.id,
                changed_at=start + timedelta(days=i),
            )
        )
    db.session.commit()
    return customer, score


def test_explain_breakdown_adds_up_to_the_stored_index(world, login_as, scored):
    customer, score = scored
    r = login_as(world.agent_a).get(f"{URL}/customers/{customer.id}")
    assert r.status_code == 200, r.json
    body = r.json
    assert body["scored"] is True and body["tier"] == "gold" and body["tier_rule"] == "gold: index >= 65"
    assert body["value_index"] == pytest.approx(score.value_index)
    assert body["index"]["index"] == pytest.approx(score.value_index)
    assert sum(c["contribution"] for c in body["index"]["criteria"]) == pytest.approx(score.value_index)
    for criterion in body["index"]["criteria"]:
        assert sum(i["contribution"] for i in criterion["indicators"]) == pytest.approx(criterion["contribution"])
    monetary = next(i for c in body["index"]["criteria"] for i in c["indicators"] if i["metric"] == "monetary")
    assert monetary["cap"] == 5000.0 and monetary["score"] == pytest.approx(1200 / 5000)
    assert body["rfm"]["recency_days"] == 210 and body["rfm"]["monetary"] == 1200.0
    assert body["segment8"] == {"code": "important_winback", "zh": "重要挽留客户", "en": "Important win-back"}
    assert body["segment10"]["code"] == "cant_lose"
    assert body["lifecycle"]["code"] == "repeat"
    assert body["clv"]["simple"] == 2400.0 and body["clv"]["contract"] is None


def test_explain_expands_churn_reasons_into_words_and_figures(world, login_as, scored):
    customer, _ = scored
    reasons = {r["code"]: r for r in login_as(world.agent_a).get(f"{URL}/customers/{customer.id}").json["churn"]["reasons"]}
    assert list(reasons) == ["recency_rising", "frequency_falling", "spend_falling", "complaint"]
    assert "no purchase for 210 days, 2.1 times the usual gap of 100 days" in reasons["recency_rising"]["detail"]
    assert reasons["recency_rising"]["figures"]["usual_gap_days"] == 100.0
    assert reasons["frequency_falling"]["detail"] == "1 purchase in the last 90 days against 4 in the 90 days before"
    assert "spent 100.00 in the last 90 days against 400.00" in reasons["spend_falling"]["detail"]
    assert "(25% of it)" in reasons["spend_falling"]["detail"]
    # Three complaints, of which the model counts complaint_cap (2), at 10 points each.
    assert reasons["complaint"]["detail"] == "3 complaints in the last 90 days"
    assert reasons["complaint"]["points"] == 2 * DEFAULT_MODEL.churn_weights["complaint"]


def test_explain_shows_the_last_twenty_tier_changes_newest_first(world, login_as, scored):
    customer, _ = scored
    history = login_as(world.agent_a).get(f"{URL}/customers/{customer.id}").json["tier_history"]
    assert len(history) == 20
    assert [h["rule"] for h in history[:3]] == ["rule 21", "rule 20", "rule 19"]
    assert history[-1]["rule"] == "rule 2"


def test_explain_uses_the_model_of_the_run_that_scored_the_row(world, login_as, make_run, make_score):
    """A row scored by model version 1 is explained with version 1, even after version 2 is active."""
    old = parse({"criteria_matrix": CONSISTENT})
    db.session.add(ValueModelRow(version=1, document=old.to_document(), is_active=True))
    customer = world.ticket_a.customer
    score = make_score(customer, make_run(model_version=1), config=old)
    db.session.commit()
    admin = login_as(world.admin)
    assert admin.put(f"{URL}/model", json={"criteria_matrix": [[1, 1, 1], [1, 1, 1], [1, 1, 1]]}).json["version"] == 2
    body = admin.get(f"{URL}/customers/{customer.id}").json
    assert body["model_version"] == 1
    assert body["index"]["index"] == pytest.approx(score.value_index)
    assert [c["weight"] for c in body["index"]["criteria"]] == pytest.approx(list(analyse(CONSISTENT).weights))


def test_explain_of_a_customer_you_may_not_see_is_404(world, login_as, make_score):
    hidden = world.ticket_b.customer  # only a ticket in department B
    make_score(hidden)
    db.session.commit()
    assert login_as(world.agent_a).get(f"{URL}/customers/{hidden.id}").status_code == 404
    assert login_as(world.supervisor_a).get(f"{URL}/customers/{hidden.id}").status_code == 404
    assert login_as(world.agent_a).get(f"{URL}/customers/999999").status_code == 404
    # The same answer as the customer API itself.
    assert login_as(world.agent_a).get(f"/api/v1/customers/{hidden.id}").status_code == 404
    assert login_as(world.agent_b).get(f"{URL}/customers/{hidden.id}").status_code == 200
    assert login_as(world.admin).get(f"{URL}/customers/{hidden.id}").status_code == 200


def test_a_customer_never_scored_is_not_an_error(world, login_as):
    newcomer = CustomerFactory(name="New contact")
    db.session.commit()
    r = login_as(world.agent_a).get(f"{URL}/customers/{newcomer.id}")
    assert r.status_code == 200
    assert r.json["scored"] is False and r.json["tier"] == "normal" and r.json["tier_history"] == []
    assert "index" not in r.json


def test_explain_needs_the_value_read_scope(world, client, scored):
    customer, _ = scored
    _, customers_only = create_token(world.agent_a, "crm", ["customers:read"], None)
    _, value_reader = create_token(world.agent_a, "bi", ["value:read"], None)
    assert client.get(f"{URL}/customers/{customer.id}", headers=_bearer(customers_only)).status_code == 403
    r = client.get(f"{URL}/customers/{customer.id}", headers=_bearer(value_reader))
    assert r.status_code == 200 and r.json["tier"] == "gold"


def test_explain_after_a_real_scoring_run_adds_up(world, login_as):
    """End to end with scoring.recompute: the breakdown of the stored index (written by SQL) adds up
    to it, and a single old purchase explains recency against the trend window."""
    customer = world.ticket_a.customer
    as_of = date(2026, 6, 30)
    db.session.add_all(
        [
            Transaction(customer_id=customer.id, dedupe_key="e2e-1", occurred_on=date(2025, 9, 1), amount=Decimal("300")),
            Transaction(customer_id=world.ticket_b.customer.id, dedupe_key="e2e-2", occurred_on=date(2026, 6, 1), amount=Decimal("50")),
            Transaction(customer_id=world.ticket_b.customer.id, dedupe_key="e2e-3", occurred_on=date(2026, 6, 20), amount=Decimal("80")),
        ]
    )
    db.session.commit()
    scoring.recompute("full", DEFAULT_MODEL, 0, as_of=as_of)
    body = login_as(world.agent_a).get(f"{URL}/customers/{customer.id}").json
    assert body["scored"] is True and body["run_id"] is not None
    assert body["index"]["index"] == pytest.approx(body["value_index"], abs=1e-6)
    assert sum(c["contribution"] for c in body["index"]["criteria"]) == pytest.approx(body["value_index"], abs=1e-6)
    recency = next(r for r in body["churn"]["reasons"] if r["code"] == "recency_rising")
    assert recency["detail"] == "no purchase for 302 days, longer than the 90-day trend window"


def test_a_malformed_criteria_matrix_is_pointed_at_criteria_matrix(world, login_as):
    r = login_as(world.admin).put(f"{URL}/model", json={"criteria_matrix": [[1, 3, 5], [3, 1, 3], [1 / 5, 1 / 3, 1]]})
    assert r.status_code == 422 and "reciprocal" in r.json["detail"]
    assert list(r.json["errors"]["json"]) == ["criteria_matrix"]
