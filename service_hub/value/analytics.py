"""The value dashboard and the retention worklist: segment sizes, tiers over time, churn follow-ups.

Aggregates are one GROUP BY each over value_customer_scores (a read model the scorer refreshes),
never a loop over customers. The worklist is keyset-paged on (churn_risk desc, customer id) and
shows only customers the caller may see. Follow-ups are ordinary tickets opened through
tickets.operations.create_ticket, so routing, SLA, audit and outbox apply to each of them.
"""

from __future__ import annotations

import base64
import json
import math
import string
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from service_hub.auth.principal import Principal
from service_hub.auth.scope import DepartmentScope, scope_of
from service_hub.core.errors import Forbidden, Problem, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.keyset import InvalidCursor
from service_hub.customers.models import Customer, Tier
from service_hub.customers.operations import visible_customers_clause
from service_hub.org.models import Department
from service_hub.tickets import operations as ticket_operations
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import ACTIVE_STATUSES, Channel, Priority, Ticket, TicketTag
from service_hub.value.explanation import SEGMENT8_LABELS, SEGMENT10_LABELS, labelled, reason_codes
from service_hub.value.models import CustomerScore, TierSnapshot

FOLLOW_UP_TAG = "retention-follow-up"
# A retention follow-up is an outbound call-back by the retention team; of the Channel values,
# phone is the one that says so (the ticket is opened by us, not received on a channel).
FOLLOW_UP_CHANNEL = Channel.PHONE
FOLLOW_UP_SOURCE = "churn-worklist"
MAX_FOLLOW_UPS = 500
TEMPLATE_FIELDS = ("name", "customer_number", "tier", "churn_risk", "customer_id")
DEFAULT_HISTORY_DAYS = 365


# --- segments and tiers ------------------------------------------------------------------------


def _population() -> Select[Any]:
    """Scored customers that are not merged tombstones. The dashboard counts the whole customer
    base: these are aggregates, and the tier history (value_tier_snapshots) is whole-base too."""
    return (
        select()
        .select_from(CustomerScore)
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .where(Customer.merged_into_id.is_(None))
    )


def segment_summary(model: int) -> dict[str, Any]:
    column = CustomerScore.segment8 if model == 8 else CustomerScore.segment10
    labels = SEGMENT8_LABELS if model == 8 else SEGMENT10_LABELS
    clv = func.coalesce(CustomerScore.clv_contract, CustomerScore.clv_simple)
    query = _population().add_columns(
        column.label("segment"),
        func.count().label("customers"),
        func.coalesce(func.sum(CustomerScore.monetary), 0).label("total_monetary"),
        func.avg(CustomerScore.monetary).label("avg_monetary"),
        func.avg(clv).label("avg_clv"),
        func.avg(CustomerScore.churn_risk).label("avg_churn_risk"),
    )
    rows = {r.segment: r for r in db.session.execute(query.group_by(column))}
    customers = sum(r.customers for r in rows.values())
    monetary = sum(float(r.total_monetary) for r in rows.values())
    items = []
    # Every segment of the model in its canonical order, empty ones too; then customers without one.
    for code in [*labels, *(k for k in rows if k not in labels and k is not None), *([None] if None in rows else [])]:
        r = rows.get(code)
        total = float(r.total_monetary) if r else 0.0
        items.append(
            {
                "segment": labelled(code, labels),
                "customers": r.customers if r else 0,
                "share_of_customers": (r.customers / customers if r and customers else 0.0),
                "total_monetary": round(total, 2),
                "share_of_monetary": total / monetary if monetary else 0.0,
                "avg_monetary": _round(r.avg_monetary if r else None),
                "avg_clv": _round(r.avg_clv if r else None),
                "avg_churn_risk": _round(r.avg_churn_risk if r else None),
            }
        )
    return {"model": model, "customers": customers, "total_monetary": round(monetary, 2), "segments": items}


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def tier_distribution(start: date | None, end: date | None) -> dict[str, Any]:
    """Customers per tier at each run date (the last full run of the day) and right now."""
    end = end or date.today()
    start = start or end - timedelta(days=DEFAULT_HISTORY_DAYS)
    if start > end:
        raise Problem("from must not be after to.", errors={"query": {"from": ["After to."]}})
    rows = db.session.execute(
        select(TierSnapshot.as_of, TierSnapshot.run_id, TierSnapshot.tier, TierSnapshot.customers)
        .where(TierSnapshot.as_of >= start, TierSnapshot.as_of <= end)
        .order_by(TierSnapshot.as_of, TierSnapshot.run_id)
    )
    by_day: dict[date, tuple[int, dict[str, int]]] = {}
    for r in rows:
        run_id, counts = by_day.get(r.as_of, (r.run_id, {}))
        if r.run_id > run_id:  # a later run the same day replaces the earlier one
            run_id, counts = r.run_id, {}
        counts[r.tier] = r.customers
        by_day[r.as_of] = (run_id, counts)
    tiers = [t.value for t in Tier]
    series = [
        {"as_of": day, "run_id": run_id, "tiers": {t: counts.get(t, 0) for t in tiers}, "customers": sum(counts.values())}
        for day, (run_id, counts) in sorted(by_day.items())
    ]
    counted = select(Customer.tier, func.count().label("n")).where(Customer.merged_into_id.is_(None)).group_by(Customer.tier)
    current = {r.tier: r.n for r in db.session.execute(counted)}
    now = {t: int(current.get(Tier(t), 0)) for t in tiers}
    return {"from_": start, "to": end, "series": series, "current": {"tiers": now, "customers": sum(now.values())}}


# --- the churn worklist ------------------------------------------------------------------------


def _encode(risk: float, customer_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([risk, customer_id]).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[float, int]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        risk, customer_id = raw
        if isinstance(risk, bool) or not isinstance(risk, int | float) or not math.isfinite(risk) or type(customer_id) is not int:
            raise ValueError("bad values")
        return float(risk), customer_id
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"The cursor is malformed ({exc}); start again from the first page.") from None


def _filters(min_risk: float | None, tier: Tier | None, lifecycle: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if min_risk is not None:
        conditions.append(CustomerScore.churn_risk >= min_risk)
    if tier is not None:
        conditions.append(Customer.tier == tier)
    if lifecycle is not None:
        conditions.append(CustomerScore.lifecycle == lifecycle)
    return conditions


def _worklist_query(scope: DepartmentScope, conditions: list[ColumnElement[bool]]) -> Select[Any]:
    open_tickets = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.customer_id == Customer.id, Ticket.status.in_(ACTIVE_STATUSES), visible_tickets_clause(scope))
        .scalar_subquery()
    )
    return (
        select(
            Customer.id.label("customer_id"),
            Customer.name,
            Customer.customer_number,
            Customer.tier,
            CustomerScore.value_index,
            CustomerScore.churn_risk,
            CustomerScore.churn_reasons,
            CustomerScore.lifecycle,
            CustomerScore.segment8,
            CustomerScore.recency_days,
            CustomerScore.last_purchase_on,
            open_tickets.label("open_tickets"),
        )
        .join(CustomerScore, CustomerScore.customer_id == Customer.id)
        .where(Customer.merged_into_id.is_(None), visible_customers_clause(scope), *conditions)
        .order_by(CustomerScore.churn_risk.desc(), Customer.id.asc())
    )


def _item(r: Any) -> dict[str, Any]:
    return {
        "customer_id": r.customer_id,
        "name": r.name,
        "customer_number": r.customer_number,
        "tier": r.tier.value,
        "value_index": r.value_index,
        "churn_risk": r.churn_risk,
        "churn_reasons": reason_codes(r.churn_reasons),
        "lifecycle": r.lifecycle,
        "segment8": r.segment8,
        "recency_days": r.recency_days,
        "last_purchase_on": r.last_purchase_on,
        "open_tickets": int(r.open_tickets or 0),
        "explain_url": f"/api/v1/value/customers/{r.customer_id}",
    }


def churn_worklist(
    scope: DepartmentScope,
    *,
    min_risk: float | None = None,
    tier: Tier | None = None,
    lifecycle: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of visible scored customers, riskiest first (ties by customer id), and the next cursor."""
    query = _worklist_query(scope, _filters(min_risk, tier, lifecycle))
    if cursor:
        risk, customer_id = _decode(cursor)
        query = query.where(or_(CustomerScore.churn_risk < risk, and_(CustomerScore.churn_risk == risk, Customer.id > customer_id)))
    rows = list(db.session.execute(query.limit(limit + 1)))
    next_cursor = _encode(rows[limit - 1].churn_risk, rows[limit - 1].customer_id) if len(rows) > limit else None
    return [_item(r) for r in rows[:limit]], next_cursor


# --- follow-up tickets -------------------------------------------------------------------------


def check_template(template: str) -> None:
    """Only {name}, {customer_number}, {tier}, {churn_risk}, {customer_id}; no attribute access or specs."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationProblem(f"The subject template is malformed: {exc}.", errors={"json": {"subject": [str(exc)]}}) from None
    for _, name, spec, conversion in parts:
        if name is not None and (name not in TEMPLATE_FIELDS or spec or conversion):
            message = f"Unknown placeholder {{{name}}}; use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}."
            raise ValidationProblem(message, errors={"json": {"subject": [message]}})


def _subject(template: str, row: Any) -> str:
    risk = "" if row.churn_risk is None else f"{row.churn_risk:.0f}"
    values = {
        "name": row.name,
        "customer_number": row.customer_number or "",
        "tier": row.tier.value,
        "churn_risk": risk,
        "customer_id": row.customer_id,
    }
    return template.format(**values).strip()[:300] or f"Retention follow-up: {row.name}"[:300]


def _candidates(scope: DepartmentScope, data: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """The customers to call, in worklist order, and the asked-for ids that are not visible."""
    if "customer_ids" in data:
        wanted = list(dict.fromkeys(data["customer_ids"]))
        query = (
            select(
                Customer.id.label("customer_id"),
                Customer.name,
                Customer.customer_number,
                Customer.tier,
                CustomerScore.churn_risk,
                CustomerScore.churn_reasons,
            )
            .outerjoin(CustomerScore, CustomerScore.customer_id == Customer.id)
            .where(Customer.id.in_(wanted), Customer.merged_into_id.is_(None), visible_customers_clause(scope))
        )
        found = {r.customer_id: r for r in db.session.execute(query)}
        missing = [{"customer_id": i, "reason": "not_found"} for i in wanted if i not in found]
        return [found[i] for i in wanted if i in found], missing
    f = data["filter"]
    query = _worklist_query(scope, _filters(f.get("min_risk"), f.get("tier"), f.get("lifecycle"))).limit(f["limit"])
    return list(db.session.execute(query)), []


def _with_open_follow_up(customer_ids: list[int]) -> set[int]:
    """Customers who already have an unfinished ticket this feature opened (one query)."""
    if not customer_ids:
        return set()
    query = (
        select(Ticket.customer_id)
        .join(TicketTag, TicketTag.ticket_id == Ticket.id)
        .where(TicketTag.tag == FOLLOW_UP_TAG, Ticket.status.in_(ACTIVE_STATUSES), Ticket.customer_id.in_(customer_ids))
        .distinct()
    )
    return set(db.session.scalars(query))


def open_follow_ups(actor: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """One outbound follow-up ticket per customer, skipping those with one still open.

    Each ticket commits on its own (create_ticket is one transaction), so a retry after a failure
    halfway skips the customers already served: the skip rule makes the call idempotent.
    """
    if "tickets:write" not in actor.scopes:
        raise Forbidden("Opening follow-up tickets needs the scope 'tickets:write' as well.")
    department = db.session.get(Department, data["department_id"])
    scope = scope_of(actor.agent)
    if department is None or not department.is_active or not (scope.all_departments or department.id in scope.visible_department_ids):
        raise ValidationProblem(
            "No such active department among yours.", errors={"json": {"department_id": ["Not an active department of yours."]}}
        )
    template = data["subject"]
    check_template(template)
    candidates, skipped = _candidates(scope, data)
    already = _with_open_follow_up([r.customer_id for r in candidates])
    created: list[int] = []
    for row in candidates:
        if row.customer_id in already:
            skipped.append({"customer_id": row.customer_id, "reason": "open_follow_up"})
            continue
        ticket_data = {
            "subject": _subject(template, row),
            "channel": FOLLOW_UP_CHANNEL,
            "customer_id": row.customer_id,
            "department_id": department.id,
            "priority": data.get("priority", Priority.NORMAL),
            "tags": [FOLLOW_UP_TAG],
            "custom_fields": {
                "source": FOLLOW_UP_SOURCE,
                "churn_risk": row.churn_risk,
                "churn_reasons": reason_codes(row.churn_reasons),
            },
        }
        try:
            ticket = ticket_operations.create_ticket(actor, ticket_data)
        except Problem as exc:
            db.session.rollback()
            skipped.append({"customer_id": row.customer_id, "reason": exc.detail})
            continue
        created.append(ticket.id)
    return {"created": created, "skipped": skipped}
