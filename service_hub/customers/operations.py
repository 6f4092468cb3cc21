"""Customer use cases: search, read, create, update, identities and merge; one transaction each.

Access lives in the query (visible_customers_clause), so search, detail and every write agree on
who may see a customer. A customer the caller may not see is "not found", never "forbidden".
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from service_hub.auth.principal import Principal
from service_hub.auth.scope import DepartmentScope, scope_of
from service_hub.core.errors import Conflict, Forbidden, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.keyset import Sort, SortKey, cursor_for, seek
from service_hub.core.outbox import record_event
from service_hub.customers.identities import normalise_identity
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind, Tier
from service_hub.org.models import Agent, Role
from service_hub.tickets.access import customer_visible_clause, visible_tickets_clause
from service_hub.tickets.audit import audit
from service_hub.tickets.models import Message, Ticket
from service_hub.value.merge import move_value_records

HISTORY_LIMIT = 50
MERGE_ROLES = (Role.SUPERVISOR, Role.ADMIN)
EDITABLE_FIELDS = ("name", "customer_number", "language", "notes")

_PHONE_KINDS = (IdentityKind.PHONE, IdentityKind.WHATSAPP)
_NORMALISED_KINDS = (*_PHONE_KINDS, IdentityKind.EMAIL)
# Digits with the usual separators, at least six digits: "138 0013 8000", "+86 (10) 1234-5678".
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")
# Keyset order of the customer list: by id, so a page never repeats or skips a row.
_PAGE_KEYS = Sort((SortKey(Customer.id),))


# --- access ------------------------------------------------------------------------------------


def visible_customers_clause(scope: DepartmentScope) -> ColumnElement[bool]:
    """Customers this scope may see.

    A merged tombstone has no tickets left, which alone would make it visible to everyone (a
    customer without tickets is a new contact); so a tombstone is exactly as visible as the
    survivor it points to. Merges keep that pointer one step long (see merge_customers).
    """
    survivor_visible = or_(Customer.merged_into_id.is_(None), customer_visible_clause(scope, Customer.merged_into_id))
    return and_(customer_visible_clause(scope, Customer.id), survivor_visible)


def _is_visible(scope: DepartmentScope, customer_id: int) -> bool:
    query = select(Customer.id).where(Customer.id == customer_id, visible_customers_clause(scope))
    return db.session.scalar(query) is not None


def get_visible_customer(agent: Agent, customer_id: int) -> Customer:
    """The customer if this agent may see it; otherwise 404, so ids cannot be probed."""
    query = select(Customer).where(Customer.id == customer_id, visible_customers_clause(scope_of(agent)))
    customer = db.session.scalars(query).first()
    if customer is None:
        raise NotFound(f"Customer {customer_id} does not exist or is not visible to you.")
    return customer


def _writable(customer: Customer) -> Customer:
    if customer.merged_into_id is not None:
        raise Conflict(
            f"Customer {customer.id} was merged into customer {customer.merged_into_id}; change that one instead.",
            errors={"merged_into_id": customer.merged_into_id},
        )
    return customer


# --- search ------------------------------------------------------------------------------------


def _identity_match(q: str) -> ColumnElement[bool]:
    """Identities whose stored (normalised) value equals q read as a phone, an email or verbatim."""
    conditions: list[ColumnElement[bool]] = [and_(ContactIdentity.kind.not_in(_NORMALISED_KINDS), ContactIdentity.value == q)]
    if _PHONE_LIKE.match(q) and sum(c.isdigit() for c in q) >= 6:
        with contextlib.suppress(ValidationProblem):
            phone = normalise_identity(IdentityKind.PHONE, q)
            conditions.append(and_(ContactIdentity.kind.in_(_PHONE_KINDS), ContactIdentity.value == phone))
    if "@" in q:
        with contextlib.suppress(ValidationProblem):
            email = normalise_identity(IdentityKind.EMAIL, q)
            conditions.append(and_(ContactIdentity.kind == IdentityKind.EMAIL, ContactIdentity.value == email))
    return or_(*conditions)


def search_customers(
    agent: Agent,
    *,
    q: str | None = None,
    tier: Tier | None = None,
    include_merged: bool = False,
    limit: int = 25,
    cursor: str | None = None,
) -> tuple[list[Customer], str | None]:
    """One page of visible customers in id order, and the cursor of the next page (or None)."""
    query = select(Customer).where(visible_customers_clause(scope_of(agent)))
    if not include_merged:
        query = query.where(Customer.merged_into_id.is_(None))
    if tier is not None:
        query = query.where(Customer.tier == tier)
    if q is not None and q.strip():
        term = q.strip()
        matching_identities = select(ContactIdentity.customer_id).where(_identity_match(term))
        query = query.where(
            or_(
                Customer.name.icontains(term, autoescape=True),
                Customer.customer_number == term,
                Customer.id.in_(matching_identities),
            )
        )
    rows = list(db.session.scalars(seek(query, _PAGE_KEYS, cursor).limit(limit + 1)))
    next_cursor = cursor_for(rows[limit - 1], _PAGE_KEYS) if len(rows) > limit else None
    return rows[:limit], next_cursor


# --- read --------------------------------------------------------------------------------------


@dataclass
class CustomerDetailView:
    """A customer with the caller's visible ticket history; reads fall through to the customer."""

    customer: Customer
    tickets: list[Row[Any]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("customer", "tickets"):
            raise AttributeError(name)
        return getattr(self.customer, name)


def customer_detail(agent: Agent, customer_id: int) -> CustomerDetailView:
    customer = get_visible_customer(agent, customer_id)
    history = (
        select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.priority, Ticket.channel, Ticket.created_at)
        .where(Ticket.customer_id == customer.id, visible_tickets_clause(scope_of(agent)))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return CustomerDetailView(customer, list(db.session.execute(history)))


# --- helpers for writes ------------------------------------------------------------------------


def _commit() -> None:
    """Commit; a unique constraint lost to a concurrent request is a 409, not a 500."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Another request changed the same customer data at the same time; reload and try again.") from None


def _normalised(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    seen: set[tuple[IdentityKind, str, str]] = set()
    for item in items:
        kind = IdentityKind(item["kind"])
        account = (item.get("account") or "").strip()
        value = normalise_identity(kind, item["value"])
        key = (kind, account, value)
        if key in seen:
            raise ValidationProblem(f"The {kind.value} identity {value!r} is listed twice.", errors={"identities": ["Listed twice."]})
        seen.add(key)
        display = item.get("display_value") or (item["value"].strip() if item["value"].strip() != value else None)
        result.append({"kind": kind, "account": account, "value": value, "display_value": display})
    return result


def _ensure_identities_free(scope: DepartmentScope, identities: list[dict[str, Any]], owner_id: int | None = None) -> None:
    """409 naming the first identity already taken; the holder is named only if the caller may see it."""
    if not identities:
        return
    taken = db.session.execute(
        select(ContactIdentity.kind, ContactIdentity.account, ContactIdentity.value, ContactIdentity.customer_id).where(
            or_(
                *(
                    and_(ContactIdentity.kind == i["kind"], ContactIdentity.account == i["account"], ContactIdentity.value == i["value"])
                    for i in identities
                )
            )
        )
    ).first()
    if taken is None:
        return
    named = {"kind": taken.kind.value, "account": taken.account, "value": taken.value}
    if owner_id is not None and taken.customer_id == owner_id:
        raise Conflict(f"The {taken.kind.value} identity {taken.value!r} already belongs to this customer.", errors={"identity": named})
    detail = f"The {taken.kind.value} identity {taken.value!r} already belongs to another customer"
    if _is_visible(scope, taken.customer_id):
        named["customer_id"] = taken.customer_id
        detail += f" (customer {taken.customer_id}); merge the two customers instead"
    raise Conflict(detail + ".", errors={"identity": named})


def _ensure_number_free(number: str | None, owner_id: int | None = None) -> None:
    if number is None:
        return
    holder = db.session.scalar(select(Customer.id).where(Customer.customer_number == number))
    if holder is not None and holder != owner_id:
        raise Conflict(f"The customer number {number!r} is already in use.", errors={"customer_number": ["Already in use."]})


def _identity_record(identity: ContactIdentity) -> dict[str, Any]:
    return {"identity_id": identity.id, "kind": identity.kind.value, "account": identity.account, "value": identity.value}


# --- writes ------------------------------------------------------------------------------------


def create_customer(principal: Principal, data: dict[str, Any]) -> Customer:
    scope = scope_of(principal.agent)
    identities = _normalised(data.get("identities") or [])
    number = data.get("customer_number")
    _ensure_number_free(number)
    _ensure_identities_free(scope, identities)
    customer = Customer(
        name=data["name"].strip(),
        customer_number=number,
        language=data.get("language"),
        notes=data.get("notes"),
        attributes={},
        identities=[ContactIdentity(**identity) for identity in identities],
    )
    db.session.add(customer)
    db.session.flush()
    after = {name: getattr(customer, name) for name in EDITABLE_FIELDS} | {"identities": [_identity_record(i) for i in customer.identities]}
    audit(principal, "customer.created", customer_id=customer.id, before=None, after=after)
    _commit()
    return customer


def update_customer(principal: Principal, customer_id: int, changes: dict[str, Any]) -> Customer:
    customer = _writable(get_visible_customer(principal.agent, customer_id))
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in EDITABLE_FIELDS:
        if name in changes and changes[name] != getattr(customer, name):
            before[name], after[name] = getattr(customer, name), changes[name]
    if "customer_number" in after:
        _ensure_number_free(after["customer_number"], owner_id=customer.id)
    for name, value in after.items():
        setattr(customer, name, value)
    if after:
        audit(principal, "customer.updated", customer_id=customer.id, before=before, after=after)
    _commit()
    return customer


def add_identity(principal: Principal, customer_id: int, data: dict[str, Any]) -> ContactIdentity:
    customer = _writable(get_visible_customer(principal.agent, customer_id))
    (identity_data,) = _normalised([data])
    _ensure_identities_free(scope_of(principal.agent), [identity_data], owner_id=customer.id)
    identity = ContactIdentity(customer_id=customer.id, **identity_data)
    db.session.add(identity)
    db.session.flush()
    audit(principal, "customer.identity_added", customer_id=customer.id, before=None, after=_identity_record(identity))
    _commit()
    return identity


def remove_identity(principal: Principal, customer_id: int, identity_id: int) -> None:
    customer = _writable(get_visible_customer(principal.agent, customer_id))
    identity = db.session.get(ContactIdentity, identity_id)
    if identity is None or identity.customer_id != customer.id:
        raise NotFound(f"Customer {customer.id} has no identity {identity_id}.")
    audit(principal, "customer.identity_removed", customer_id=customer.id, before=_identity_record(identity), after=None)
    db.session.delete(identity)
    _commit()


def merge_customers(principal: Principal, target_id: int, source_id: int) -> Customer:
    """Merge source into target on a supervisor's or admin's request (see _merge); one transaction."""
    if principal.agent.role not in MERGE_ROLES:
        raise Forbidden("Only supervisors and admins may merge customers.")
    if source_id == target_id:
        raise ValidationProblem("A customer cannot be merged into itself.", errors={"source_id": ["Must differ from the target."]})
    scope = scope_of(principal.agent)
    # Lock both rows in id order (no deadlock between opposite merges); re-read them fresh.
    locked = db.session.scalars(
        select(Customer)
        .where(Customer.id.in_((target_id, source_id)), visible_customers_clause(scope))
        .order_by(Customer.id)
        .with_for_update(of=Customer)
        .execution_options(populate_existing=True)
    ).all()
    by_id = {c.id: c for c in locked}
    if target_id not in by_id:
        raise NotFound(f"Customer {target_id} does not exist or is not visible to you.")
    if source_id not in by_id:
        raise NotFound(f"Customer {source_id} does not exist or is not visible to you.", errors={"source_id": ["Not found."]})
    target, source = by_id[target_id], by_id[source_id]
    if target.merged_into_id is not None:
        raise Conflict(
            f"Customer {target.id} is itself merged into customer {target.merged_into_id}; merge into that one.",
            errors={"merged_into_id": target.merged_into_id},
        )
    if source.merged_into_id is not None:
        raise Conflict(
            f"Customer {source.id} was already merged into customer {source.merged_into_id}.", errors={"source_id": ["Already merged."]}
        )
    _merge(target, source, principal)
    _commit()
    return target


# Rounds of following tombstones while locking: pointers are one step long, so two suffice unless
# merges race; a third miss raises and the inbox retries the contact.
_LOCK_ROUNDS = 3


def lock_live_customers(customer_ids: set[int]) -> dict[int, Customer]:
    """Lock these customers and the survivors of any tombstones among them, in id order, re-read fresh.

    Returns {asked id: its live customer (itself, or the survivor it was merged into)}; an id that
    does not exist is left out. The same row locks as merge_customers, so a merge and whoever holds
    these locks run one after the other. Caller commits.
    """
    ids = set(customer_ids)
    for _ in range(_LOCK_ROUNDS):
        rows = db.session.scalars(
            select(Customer)
            .where(Customer.id.in_(sorted(ids)))
            .order_by(Customer.id)
            .with_for_update(of=Customer)
            .execution_options(populate_existing=True)
        ).all()
        by_id = {c.id: c for c in rows}
        live: dict[int, Customer] = {}
        for asked in customer_ids:
            customer = by_id.get(asked)
            if customer is not None and customer.merged_into_id is not None:
                customer = by_id.get(customer.merged_into_id)
                if customer is None or customer.merged_into_id is not None:
                    break  # a survivor not locked yet (or merged on since): lock it in the next round
            if customer is not None:
                live[asked] = customer
        else:
            return live
        ids |= {c.merged_into_id for c in by_id.values() if c.merged_into_id is not None}
    raise Conflict(f"Customers {sorted(customer_ids)} kept being merged while being locked; try again.")


def merge_verified(first_id: int, second_id: int, reason: str) -> Customer | None:
    """A merge the system makes on verified evidence that two customers are one person; caller commits.

    Both are locked in id order (tombstones followed to their survivors); the older customer (lower
    id) survives. Returns the survivor, or None if either is gone; if a concurrent contact already
    merged them, nothing more happens and the survivor is returned. Audited with the reason, as the system.
    """
    live = lock_live_customers({first_id, second_id})
    if len(live) < 2:
        return None
    survivors = sorted({c.id: c for c in live.values()}.values(), key=lambda c: c.id)
    if len(survivors) == 1:
        return survivors[0]
    target, source = survivors
    _merge(target, source, None, reason=reason)
    return target


def _merge(target: Customer, source: Customer, actor: Principal | None, reason: str | None = None) -> dict[str, Any]:
    """Merge source into target, losing nothing; the source stays as a tombstone pointing at target.

    Both rows must be locked and live. Identities, tickets and authored messages move with one
    UPDATE each; empty fields of the target are filled from the source, notes are joined and
    attributes merged (target wins). Audited on both by the actor (None: the system) with the
    reason if given, and announced in the outbox. The caller commits.
    """
    identity_ids = list(
        db.session.scalars(
            update(ContactIdentity)
            .where(ContactIdentity.customer_id == source.id)
            .values(customer_id=target.id)
            .returning(ContactIdentity.id)
        )
    )
    # Bump the optimistic-lock version so an editor holding an old copy of a ticket gets a 409.
    ticket_ids = list(
        db.session.scalars(
            update(Ticket)
            .where(Ticket.customer_id == source.id)
            .values(customer_id=target.id, version=Ticket.version + 1)
            .returning(Ticket.id)
        )
    )
    messages_moved = db.session.execute(
        update(Message).where(Message.author_customer_id == source.id).values(author_customer_id=target.id)
    ).rowcount
    value_moved = move_value_records(source.id, target.id)
    # Older tombstones of the source now point at the survivor: every pointer stays one step long.
    db.session.execute(update(Customer).where(Customer.merged_into_id == source.id).values(merged_into_id=target.id))
    db.session.expire(source, ["identities"])
    db.session.expire(target, ["identities"])

    before: dict[str, Any] = {}
    after: dict[str, Any] = {}

    def change(name: str, value: Any) -> None:
        before[name], after[name] = getattr(target, name), value
        setattr(target, name, value)

    if not target.customer_number and source.customer_number:
        number = source.customer_number
        source.customer_number = None  # unique: free it on the tombstone before the survivor takes it
        db.session.flush()
        change("customer_number", number)
    if not target.language and source.language:
        change("language", source.language)
    if source.notes:
        joined = f"{target.notes}\n\n[merged from customer {source.id}]\n{source.notes}" if target.notes else source.notes
        change("notes", joined)
    merged_attributes = {**(source.attributes or {}), **(target.attributes or {})}
    if merged_attributes != (target.attributes or {}):
        change("attributes", merged_attributes)
    source.merged_into_id = target.id

    moved = {
        "source_id": source.id,
        "target_id": target.id,
        "identity_ids": identity_ids,
        "identity_count": len(identity_ids),
        "ticket_ids": ticket_ids,
        "ticket_count": len(ticket_ids),
        "message_count": messages_moved,
        **value_moved,
    }
    if reason is not None:
        moved["reason"] = reason
    audit(actor, "customer.merged", customer_id=target.id, before=before, after=after | moved)
    audit(actor, "customer.merged", customer_id=source.id, before={"merged_into_id": None}, after={"merged_into_id": target.id} | moved)
    payload: dict[str, Any] = {"target_id": target.id, "source_id": source.id, "identity_ids": identity_ids, "ticket_ids": ticket_ids}
    if reason is not None:
        payload["reason"] = reason
    record_event("customer.merged", payload, rooms=[f"customer:{target.id}", f"customer:{source.id}"])
    return moved
