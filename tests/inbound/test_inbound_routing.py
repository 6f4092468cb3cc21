"""Routing rules for a channel's new tickets: a matching rule with conditions decides; otherwise the account's default department."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service_hub.core.extensions import db
from service_hub.tickets.models import AuditEvent, Channel, Priority, Ticket
from tests.casework.conftest import URL, build_centre, rule


def _newest_sms_ticket() -> Ticket:
    db.session.expire_all()
    return db.session.scalars(select(Ticket).where(Ticket.channel == Channel.SMS).order_by(Ticket.id.desc()).limit(1)).one()


def _routed_audit(ticket: Ticket) -> dict[str, Any] | None:
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.routed")).first()
    return event.after if event is not None else None


def test_rules_route_a_channel_contact_and_the_default_rule_leaves_the_account_default(sms, world) -> None:  # type: ignore[no-untyped-def]
    centre = build_centre("sz")
    db.session.commit()
    admin = sms.admin
    # The account lands its contacts in the centre's billing desk unless a rule says otherwise.
    assert (
        admin.patch(f"/api/v1/channel-accounts/{sms.account['id']}", json={"default_department_id": centre.billing.id}).status_code == 200
    )
    for body in (
        rule("Default", department_function="front_line"),
        rule(
            "Broadband",
            {"keywords_any": ["宽带", "broadband"]},
            workflow="fault_repair",
            department_function="network_operations",
            priority="high",
            tags=["broadband", "fault"],
        ),
        rule("VIP line", {"accounts": ["someone-elses-account"]}, department_function="vip_service"),
    ):
        assert admin.post(URL, json=body).status_code == 201

    # A keyword rule matches: its department (resolved in the account department's centre), priority, tags, workflow.
    assert sms.inbound("你好\uff0c家里宽带断了", sender="+8613900139001")[0].status_code == 200
    ticket = _newest_sms_ticket()
    assert ticket.department_id == centre.network.id
    assert ticket.priority == Priority.HIGH and {"broadband", "fault"} <= set(ticket.tags)
    assert ticket.custom_fields.get("workflow") == "fault_repair"
    assert (_routed_audit(ticket) or {}).get("rule") == "Broadband"

    # Only the unconditional default rule matches: the account's own default department holds.
    assert sms.inbound("话费怎么查\uff1f", sender="+8613900139002")[0].status_code == 200
    ticket = _newest_sms_ticket()
    assert ticket.department_id == centre.billing.id
    assert _routed_audit(ticket) is None


def test_a_rule_that_cannot_be_applied_loses_nothing(sms, world) -> None:  # type: ignore[no-untyped-def]
    """The rule names a function the account department's centre lacks: the contact still becomes a ticket."""
    other = build_centre("gz")
    db.session.commit()
    admin = sms.admin
    assert admin.post(URL, json=rule("Default", department_function="front_line")).status_code == 201
    assert admin.post(URL, json=rule("Billing words", {"keywords_any": ["话费"]}, department_function="billing")).status_code == 201
    # world.dept_a (the account's default) sits in no centre with a billing desk; gz has one, but it is not this centre.
    assert other.billing.id != world.dept_a.id
    assert sms.inbound("话费不对", sender="+8613900139003")[0].status_code == 200
    ticket = _newest_sms_ticket()
    assert ticket.department_id == world.dept_a.id
