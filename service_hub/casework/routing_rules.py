"""Routing rules: the admins' ordered rule set, kept valid as a whole, and routing a new ticket to a
workflow, a department and a base priority, with the reasons why.

One row per rule in routing_rules; the id, name, position and enabled columns are the truth and
the definition (workflows.routing.rule_to_dict) holds conditions and outcome. Every change is
checked against the whole set (workflows.routing.validate_rules) before anything is written, so
a stored set always ends with a default rule. An empty table is allowed: the built-in default
then sends every ticket to the front line of the acting agent's centre.

A rule names its department by code (or id), or by function (front_line, network_operations ...);
a function resolves to the department with that function in the centre of the acting agent's
primary membership, so one rule set serves all six centres.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service_hub.auth.scope import scope_of
from service_hub.casework.models import RoutingRuleRow
from service_hub.core.errors import Conflict, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.customers.models import Customer
from service_hub.org.models import Agent, Department, DepartmentKind
from service_hub.org.tree import DepartmentTree
from service_hub.tickets.access import customer_visible_clause
from service_hub.tickets.content import html_to_text, sanitise_html
from service_hub.tickets.models import Priority as TicketPriority
from workflows.definition_loader import shipped_registry
from workflows.queue_order import Tier as RoutingTier
from workflows.routing import (
    Conditions,
    RoutingDecision,
    RoutingInput,
    RoutingRule,
    RuleOutcome,
    RuleSetError,
    route,
    rule_from_dict,
    rule_to_dict,
    validate_rules,
)

log = logging.getLogger(__name__)

# Used while the table is empty: the fallback workflow at the front line, priority by tier.
BUILTIN_DEFAULT = RoutingRule(
    name="built-in default", position=0, outcome=RuleOutcome(workflow="general_enquiry", department_function="front_line")
)
# A rule's tags become ticket tags, so they follow the tickets API's rule for tags.
TICKET_TAG = re.compile(r"^[\w.:\-/]+$")

_Entry = tuple[RoutingRuleRow | None, RoutingRule]  # a row (None: not yet stored) and its rule as proposed


# --- the rule set ------------------------------------------------------------------------------


def list_rules() -> list[RoutingRuleRow]:
    return list(db.session.scalars(select(RoutingRuleRow).order_by(RoutingRuleRow.position)))


def get_rule(rule_id: int) -> RoutingRuleRow:
    row = db.session.get(RoutingRuleRow, rule_id)
    if row is None:
        raise NotFound(f"Routing rule {rule_id} does not exist.")
    return row


def rule_of(row: RoutingRuleRow) -> RoutingRule:
    return rule_from_dict({**row.definition, "id": row.id, "name": row.name, "position": row.position, "enabled": row.enabled})


def create_rule(actor: Agent, data: Mapping[str, Any]) -> RoutingRuleRow:
    """Insert a rule at its position (later rules move down one); without a position, a rule with
    conditions goes just before the default rule and one without conditions goes last."""
    current = _locked_entries()
    rule = RoutingRule(
        name=data["name"], position=1, enabled=data["enabled"], conditions=data.get("conditions") or Conditions(), outcome=data["outcome"]
    )
    _check_references(rule.outcome)
    proposed = _insert(current, None, rule, data.get("position") or _default_position(current, rule))
    _validate(proposed)
    row = _write(proposed)
    assert row is not None
    log.info("routing rule %s (%r) created at position %s by agent %s", row.id, row.name, row.position, actor.id)
    return row


def update_rule(actor: Agent, rule_id: int, changes: Mapping[str, Any]) -> RoutingRuleRow:
    """PATCH a rule: conditions and outcome are replaced whole; a new position moves it there."""
    current = _locked_entries()
    row, old = next(((r, rule) for r, rule in current if r is not None and r.id == rule_id), (None, None))
    if row is None or old is None:
        raise NotFound(f"Routing rule {rule_id} does not exist.")
    rule = replace(old, **{key: changes[key] for key in ("name", "enabled", "outcome") if key in changes})
    if "conditions" in changes:
        rule = replace(rule, conditions=changes["conditions"] or Conditions())
    if "outcome" in changes:
        _check_references(rule.outcome)
    if changes.get("position", old.position) != old.position:
        proposed = _insert(current, row, rule, changes["position"])
    else:
        proposed = [(r, rule if r is row else other) for r, other in current]
    _validate(proposed)
    _write(proposed)
    log.info("routing rule %s updated by agent %s: %s", rule_id, actor.id, sorted(changes))
    return row


def delete_rule(actor: Agent, rule_id: int) -> None:
    """Delete a rule unless the rest would be an invalid set; deleting every rule is allowed."""
    current = _locked_entries()
    row = next((r for r, _ in current if r is not None and r.id == rule_id), None)
    if row is None:
        raise NotFound(f"Routing rule {rule_id} does not exist.")
    _validate([(r, rule) for r, rule in current if r is not row])
    db.session.delete(row)
    _commit()
    log.info("routing rule %s (%r) deleted by agent %s", rule_id, row.name, actor.id)


def reorder_rules(actor: Agent, ids: list[int]) -> list[RoutingRuleRow]:
    """Positions become 1..n in the order given; the list must name every rule exactly once."""
    current = _locked_entries()
    by_id = {r.id: (r, rule) for r, rule in current if r is not None}
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    missing, unknown = sorted(set(by_id) - set(ids)), sorted(set(ids) - set(by_id))
    if duplicates or missing or unknown:
        problems = [
            *([f"listed more than once: {duplicates}"] if duplicates else []),
            *([f"missing: {missing}"] if missing else []),
            *([f"no such rule: {unknown}"] if unknown else []),
        ]
        raise ValidationProblem("ids must name every routing rule exactly once.", errors={"json": {"ids": problems}})
    proposed: list[_Entry] = [(by_id[i][0], replace(by_id[i][1], position=n)) for n, i in enumerate(ids, start=1)]
    _validate(proposed)
    _write(proposed)
    log.info("routing rules reordered by agent %s: %s", actor.id, ids)
    return list_rules()


def _locked_entries() -> list[_Entry]:
    # FOR UPDATE (PostgreSQL; SQLite has one writer anyway): two admins editing at once cannot
    # each validate a set the other is changing.
    rows = db.session.scalars(select(RoutingRuleRow).order_by(RoutingRuleRow.position).with_for_update()).all()
    return [(row, rule_of(row)) for row in rows]


def _default_position(current: list[_Entry], rule: RoutingRule) -> int:
    last = max((r.position for _, r in current), default=0) + 1
    if rule.conditions.is_unconditional:
        return last
    enabled = [r for _, r in current if r.enabled]
    return enabled[-1].position if enabled and enabled[-1].conditions.is_unconditional else last


def _insert(current: list[_Entry], moving: RoutingRuleRow | None, rule: RoutingRule, position: int) -> list[_Entry]:
    others = [(r, other) for r, other in current if r is None or r is not moving]
    if any(other.position == position for _, other in others):
        others = [(r, replace(other, position=other.position + 1) if other.position >= position else other) for r, other in others]
    return [*others, (moving, replace(rule, position=position))]


def _validate(proposed: Iterable[_Entry]) -> None:
    rules = [rule for _, rule in proposed]
    if not rules:
        return  # an empty table: the built-in default routes
    try:
        validate_rules(rules)
    except RuleSetError as exc:
        raise ValidationProblem(
            "The routing rules would not be a valid set: " + "; ".join(exc.problems) + ".", errors={"rules": list(exc.problems)}
        ) from None


def _check_references(outcome: RuleOutcome) -> None:
    """Catch typos when the rule is written, not when the first ticket is routed by it."""
    errors: dict[str, list[str]] = {}
    known = shipped_registry().keys()
    if outcome.workflow not in known:
        errors["workflow"] = [f"Unknown workflow {outcome.workflow!r}; known: {', '.join(known)}."]
    if outcome.department is not None and _department_by_ref(outcome.department) is None:
        errors["department"] = [f"No active department with the code {outcome.department!r}."]
    if outcome.department_function is not None and outcome.department_function not in DepartmentTree.load().all_functions():
        errors["department_function"] = [f"No active department has the function {outcome.department_function!r}."]
    bad_tags = [tag for tag in outcome.tags if not TICKET_TAG.match(tag)]
    if bad_tags:
        errors["tags"] = [f"Tags are words (letters, digits, _ . : - /): {bad_tags}."]
    if errors:
        raise ValidationProblem("The rule's outcome names something that does not exist.", errors={"json": {"outcome": errors}})


def _write(proposed: list[_Entry]) -> RoutingRuleRow | None:
    """Store the proposed set; returns the new row when one was added. Positions are unique, so
    rows that move park at -id first; the final positions then never collide mid-flush."""
    moving = [row for row, rule in proposed if row is not None and row.position != rule.position]
    for row in moving:
        row.position = -row.id
    if moving:
        db.session.flush()
    added = None
    for entry, rule in proposed:
        row = entry if entry is not None else RoutingRuleRow(definition={})
        if entry is None:
            added = row
            db.session.add(row)
        row.name, row.position, row.enabled = rule.name, rule.position, rule.enabled
        row.definition = rule_to_dict(replace(rule, id=row.id))
    if added is not None:
        db.session.flush()  # its id, which the stored definition repeats
        added.definition = {**added.definition, "id": added.id}
    _commit()
    return added


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Someone changed the routing rules at the same time; reload them and try again.") from None


# --- routing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutedTicket:
    decision: RoutingDecision
    builtin_default: bool
    department: Department
    centre: Department | None  # where a department function was resolved
    department_reason: str

    @property
    def rule(self) -> RoutingRule:
        return self.decision.rule

    @property
    def outcome(self) -> RuleOutcome:
        return self.decision.outcome

    @property
    def priority(self) -> TicketPriority:
        return TicketPriority(int(self.decision.priority))

    @property
    def explanation(self) -> list[str]:
        return [*self.decision.explanation, self.department_reason]

    def ticket_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The create-ticket request as if the caller had chosen this route; an explicit priority wins."""
        return {
            **data,
            "department_id": self.department.id,
            "priority": data.get("priority", self.priority),
            "tags": [*self.outcome.tags, *(data.get("tags") or [])],
            # An admin's rule names the workflow; the built-in default leaves it to the workflows'
            # own applies_to (a complaint category gets the complaint workflow).
            "custom_fields": {**(data.get("custom_fields") or {})} | ({} if self.builtin_default else {"workflow": self.outcome.workflow}),
        }

    def invisible_detail(self) -> str:
        return (
            f"Routing ({self.rule.label}) sends this ticket to {self.department.name} ({self.department.code}), "
            "where you cannot open tickets; give department_id to open it in one of your departments."
        )

    def audit_after(self) -> dict[str, Any]:
        return {
            "rule": self.rule.name,
            "rule_id": self.rule.id,
            "builtin_default": self.builtin_default,
            "workflow": self.outcome.workflow,
            "department_id": self.department.id,
            "department_function": self.outcome.department_function,
            "centre_id": self.centre.id if self.centre else None,
            "priority": self.decision.priority.label,
            "tags": list(self.outcome.tags),
            "reasons": list(self.decision.matched_conditions),
            "explanation": self.explanation,
        }


def route_ticket(item: RoutingInput, centre: Department | None, own_departments: Iterable[int] = ()) -> RoutedTicket:
    """Route with the stored rules (the built-in default while there are none) and resolve the
    department: a named one, or the one with the rule's function in ``centre`` (see resolve_department)."""
    rows = list_rules()
    builtin = not rows
    try:
        decision = route([rule_of(row) for row in rows] or [BUILTIN_DEFAULT], item)
    except (RuleSetError, ValidationError) as exc:
        # Writes are validated, so this is a hand-edited table; a ticket must still be routed.
        log.error("stored routing rules are unusable, routing with the built-in default: %s", exc)
        decision, builtin = route([BUILTIN_DEFAULT], item), True
    department, used_centre, reason = resolve_department(decision.rule, centre, own_departments)
    return RoutedTicket(decision, builtin, department, used_centre, reason)


def route_new_ticket(actor: Agent, data: Mapping[str, Any], customer: Customer) -> RoutedTicket:
    """Route a ticket opened through the API without a department_id (tickets.operations.create_ticket)."""
    message = data.get("message") or {}
    body = (message.get("body_text") or "").strip() or (
        html_to_text(sanitise_html(message["body_html"])) if message.get("body_html") else ""
    )
    item = RoutingInput(
        channel=data["channel"].value,
        received_at=utcnow(),
        category=data.get("category"),
        subject=data["subject"],
        body=body,
        language=customer.language,
        tier=RoutingTier(customer.tier.value),
        attributes=dict(customer.attributes or {}),
    )
    try:
        return route_ticket(item, centre_for_agent(actor), actor.department_ids)
    except ValidationProblem as exc:
        raise ValidationProblem(
            f"{exc.detail} Give department_id to choose the department yourself.", errors={"department_id": [exc.detail]}
        ) from None


def route_inbound_ticket(account_slug: str, default_department_id: int, data: Mapping[str, Any], customer: Customer) -> RoutedTicket | None:
    """Where a customer's new contact on a channel goes (issue 3): a stored rule with conditions
    that matches it (by account, keywords, tier...) decides; otherwise None, and the ticket stays in
    the account's default department, which an admin chose for that account. The set's
    unconditional default rule is about tickets opened by agents; for a channel, the account's own
    default department is the more specific answer. Functions resolve in the account department's centre."""
    rows = list_rules()
    if not rows:
        return None
    message = data.get("message") or {}
    item = RoutingInput(
        channel=data["channel"].value,
        received_at=message.get("created_at") or utcnow(),
        account=account_slug,
        category=data.get("category"),
        subject=data["subject"],
        body=(message.get("body_text") or "").strip(),
        language=customer.language,
        tier=RoutingTier(customer.tier.value),
        attributes=dict(customer.attributes or {}),
    )
    centre_id = DepartmentTree.load().centre_of(default_department_id)
    centre = db.session.get(Department, centre_id) if centre_id is not None else None
    try:
        decision = route([rule_of(row) for row in rows], item)
        if decision.rule.conditions.is_unconditional:
            return None
        department, used_centre, reason = resolve_department(decision.rule, centre)
    except (RuleSetError, ValidationError, ValidationProblem) as exc:
        # A contact must never be lost to a rule that cannot be applied: the account's default holds.
        log.error("inbound routing for account %s failed, using its default department: %s", account_slug, exc)
        return None
    return RoutedTicket(decision, False, department, used_centre, reason)


def dry_run(actor: Agent, data: Mapping[str, Any]) -> dict[str, Any]:
    """Which rule a ticket like this would match, where it would go, and why."""
    customer = _visible_customer(actor, data["customer_id"]) if "customer_id" in data else None
    tier = customer.tier if customer is not None else data.get("tier")
    item = RoutingInput(
        channel=data["channel"].value,
        received_at=data.get("received_at") or utcnow(),
        account=data.get("account"),
        category=data.get("category"),
        subject=data["subject"],
        body=data["body"],
        language=data.get("language") or (customer.language if customer is not None else None),
        tier=RoutingTier(tier.value) if tier is not None else None,
        attributes={**((customer.attributes or {}) if customer is not None else {}), **data.get("attributes", {})},
    )
    centre = _centre(data["centre_id"]) if "centre_id" in data else centre_for_agent(actor)
    routed = route_ticket(item, centre, actor.department_ids)
    return {
        "rule": _rule_ref(routed.rule),
        "builtin_default": routed.builtin_default,
        "outcome": {
            "workflow": routed.outcome.workflow,
            "department": routed.department,
            "department_function": routed.outcome.department_function,
            "centre": routed.centre,
            "priority": routed.priority,
            "tags": list(routed.outcome.tags),
        },
        "explanation": routed.explanation,
        "evaluations": [{"rule": _rule_ref(e.rule), "status": e.status, "reasons": list(e.reasons)} for e in routed.decision.evaluations],
    }


def _rule_ref(rule: RoutingRule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "position": rule.position if rule.id is not None else None}


def _visible_customer(actor: Agent, customer_id: int) -> Customer:
    query = select(Customer).where(Customer.id == customer_id, customer_visible_clause(scope_of(actor), Customer.id))
    customer = db.session.scalars(query).first()
    if customer is None:
        raise ValidationProblem("No such customer.", errors={"json": {"customer_id": ["No such customer."]}})
    return customer


def _centre(centre_id: int) -> Department:
    centre = db.session.get(Department, centre_id)
    if centre is None or centre.kind != DepartmentKind.CENTRE:
        raise ValidationProblem("No such centre.", errors={"json": {"centre_id": [f"Department {centre_id} is not a centre."]}})
    return centre


# --- departments -------------------------------------------------------------------------------


def centre_for_agent(agent: Agent) -> Department | None:
    """The centre of the agent's primary membership (the lowest department id, as memberships
    have no order of their own); None without one."""
    if not agent.department_ids:
        return None
    centre_id = DepartmentTree.load().centre_of(min(agent.department_ids))
    return db.session.get(Department, centre_id) if centre_id is not None else None


def resolve_department(
    rule: RoutingRule, centre: Department | None, own_departments: Iterable[int] = ()
) -> tuple[Department, Department | None, str]:
    """The concrete department of a matched rule, the centre a function was resolved in, and why.

    A function resolves to the acting agent's own department in that centre when it holds the
    function (so a hotline group keeps its front-line tickets, which it could not open in the
    department above it); otherwise to the centre's department with the function."""
    outcome = rule.outcome
    if outcome.department is not None:
        department = _department_by_ref(outcome.department)
        if department is None:
            raise ValidationProblem(f"{rule.label} routes to department {outcome.department!r}, which does not exist or is inactive.")
        return department, None, f"department {department.code} ({department.name}) named by {rule.label}"
    function = outcome.department_function
    if centre is None:
        raise ValidationProblem(
            f"{rule.label} routes to the function {function!r}, which is resolved in the centre of the acting agent, "
            "and you belong to no department."
        )
    tree, function = DepartmentTree.load(), str(function)
    own = sorted(d for d in own_departments if tree.centre_of(d) == centre.id and tree.holds(d, function))
    if own:
        department = db.session.get(Department, own[0])
        assert department is not None
        return department, centre, f"function {function} is held by your department {department.code} ({department.name})"
    department_id = tree.with_function(centre.id, function)
    if department_id is None:
        raise ValidationProblem(
            f"{rule.label} routes to the function {function!r}, but no active department in centre "
            f"{centre.name} ({centre.code}) has that function."
        )
    department = db.session.get(Department, department_id)
    assert department is not None
    return department, centre, f"function {function} in centre {centre.code} is department {department.code} ({department.name})"


def _department_by_ref(ref: str | int) -> Department | None:
    column = Department.id if isinstance(ref, int) else Department.code
    department = db.session.scalars(select(Department).where(column == ref)).first()
    return department if department is not None and department.is_active else None
