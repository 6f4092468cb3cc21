"""A tier change made by the value model reaches the customer's next ticket: SLA policy and queue position."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from service_hub.casework.models import SlaClock, SlaPolicyRow
from service_hub.core.extensions import db
from service_hub.customers.models import Tier
from service_hub.value import scoring
from service_hub.value.config import TierRule, ValueModelConfig
from service_hub.value.models import MonthlyRevenue, TierChange, Transaction
from tests.factories import CustomerFactory, DepartmentFactory

AS_OF = date.today()
# ARPU of 300 a month or more makes a customer diamond; the rest of the model is the default.
MODEL = ValueModelConfig(tier_rules=(TierRule("diamond", "arpu", 300),))


def _open(api, department, customer) -> dict:
    r = api.post("/api/v1/tickets", json={"subject": "Bill question", "department_id": department.id, "customer_id": customer.id})
    assert r.status_code == 201, r.json
    return r.json


def _policy_of(ticket_id: int) -> SlaPolicyRow:
    clock = db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.kind == "first_response")).one()
    return db.session.get(SlaPolicyRow, clock.policy_id)


def test_a_customer_promoted_to_diamond_gets_the_diamond_policy_and_jumps_the_queue(world, login_as):
    desk = DepartmentFactory(parent=world.centre_a, name="Billing desk")
    api = login_as(world.supervisor_a)
    customer, others = CustomerFactory(name="Rising customer"), [CustomerFactory() for _ in range(3)]
    waiting = [_open(api, desk, other) for other in others]
    before = _open(api, desk, customer)
    assert before["tier"] == "normal" and _policy_of(before["id"]).tier is None
    queue = api.get(f"/api/v1/departments/{desk.id}/queue").json["items"]
    assert [t["id"] for t in queue] == [t["id"] for t in waiting] + [before["id"]]  # same priority and tier: oldest first

    # The operator's billing feed: three months of 320 ARPU and a purchase.
    db.session.add_all(
        [
            MonthlyRevenue(
                customer_id=customer.id, month=(AS_OF.replace(day=1) - timedelta(days=31 * k)).replace(day=1), arpu=Decimal("320")
            )
            for k in range(3)
        ]
    )
    db.session.add(Transaction(customer_id=customer.id, dedupe_key="t1", occurred_on=AS_OF, amount=Decimal("99")))
    db.session.commit()
    scoring.recompute("full", MODEL, 1, as_of=AS_OF)

    db.session.refresh(customer)
    assert customer.tier == Tier.DIAMOND
    change = db.session.scalars(select(TierChange).where(TierChange.customer_id == customer.id)).one()
    assert (change.from_tier, change.to_tier, change.rule) == ("normal", "diamond", "diamond: arpu >= 300")

    after = _open(api, desk, customer)
    assert after["tier"] == "diamond"
    diamond_policy, default_policy = _policy_of(after["id"]), _policy_of(before["id"])
    assert diamond_policy.tier == "diamond" and diamond_policy.first_response_seconds < default_policy.first_response_seconds
    assert after["first_response_due_at"] < before["first_response_due_at"]
    queue = api.get(f"/api/v1/departments/{desk.id}/queue").json["items"]
    assert queue[0]["id"] == after["id"]  # newest, yet first: the tier outranks the waiting time
    # The earlier ticket keeps the tier it was opened with (a snapshot), so its place does not change.
    assert [t["id"] for t in queue[1:]] == [t["id"] for t in waiting] + [before["id"]]
