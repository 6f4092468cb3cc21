"""The browser tests' world, seeded into a real `flask serve` (tests/realtime/served_app.serve).

One centre with a front-line department and a back-office department; agents Ada and Bo in front
line, Cy in the back office, Sue supervising the centre, Root the admin; a Twilio SMS account
whose provider API is the recording server at E2E_PROVIDER_URL; and enough tickets to page.
Prints the ids as JSON on its last line.
"""

from __future__ import annotations

import json
import os

SMS_SID = "AC" + "7" * 32
SMS_TOKEN = "e2e-auth-token-0123456789abcdef"
OUR_NUMBER = "+14155550100"
CUSTOMER_PHONE = "+8613800138000"
SUBJECT = "Roaming data stopped in Bangkok"
# Markup in user data must reach the page as text, never as HTML.
HOSTILE_SUBJECT = '<img src=x id="injected">Refund <b>now</b>'
OTHER_TICKETS = 30


def seed_main() -> None:
    from flask_migrate import upgrade

    from service_hub import create_app
    from service_hub.auth.principal import Principal
    from service_hub.core.extensions import db
    from service_hub.inbound.accounts import create_account
    from service_hub.org.models import DepartmentKind, Presence, Role
    from service_hub.tickets.models import Direction, Priority
    from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory, MessageFactory, TicketFactory

    app = create_app()
    with app.app_context():
        upgrade()
        centre = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Beijing Centre")
        front = DepartmentFactory(parent=centre, name="Front line")
        back = DepartmentFactory(parent=centre, name="Billing back office")
        ada = AgentFactory(name="Ada Agent", email="ada@example.test", departments=[front], presence=Presence.ONLINE)
        bo = AgentFactory(name="Bo Colleague", email="bo@example.test", departments=[front], presence=Presence.ONLINE)
        cy = AgentFactory(name="Cy Backoffice", email="cy@example.test", departments=[back], role=Role.BACK_OFFICE)
        sue = AgentFactory(name="Sue Supervisor", email="sue@example.test", departments=[centre], role=Role.SUPERVISOR)
        root = AgentFactory(name="Root Admin", email="root@example.test", role=Role.ADMIN)
        customer = CustomerFactory(name="Li Na")
        ticket = TicketFactory(subject=SUBJECT, priority=Priority.URGENT, customer=customer, department=front, assignee=ada)
        MessageFactory(
            ticket=ticket, direction=Direction.INBOUND, body_text="Since this morning my phone says <no service> abroad.\nPlease help."
        )
        hostile = TicketFactory(subject=HOSTILE_SUBJECT, priority=Priority.HIGH, customer=customer, department=front)
        for n in range(OTHER_TICKETS):
            TicketFactory(subject=f"Routine question {n}", priority=Priority.LOW, department=front)
        db.session.commit()
        account = create_account(
            Principal(agent=root, via="system"),
            {
                "kind": "sms.twilio",
                "name": "Hotline SMS",
                "is_active": True,
                "default_department_id": front.id,
                "credentials": {"account_sid": SMS_SID, "auth_token": SMS_TOKEN},
                "settings": {
                    "from_number": OUR_NUMBER,
                    "api_base_url": os.environ.get("E2E_PROVIDER_URL", "http://127.0.0.1:9"),
                    "webhook_base_url": "http://localhost",
                },
            },
        )
        ids = {
            "centre": centre.id,
            "front": front.id,
            "back": back.id,
            "ada": ada.id,
            "bo": bo.id,
            "cy": cy.id,
            "sue": sue.id,
            "root": root.id,
            "customer": customer.id,
            "ticket": ticket.id,
            "hostile_ticket": hostile.id,
            "sms_account": account.id,
            "sms_slug": account.slug,
        }
        _seed_customer(ids)
        _seed_supervisor(ids)
        _seed_scenario(ids)
    print(json.dumps(ids), flush=True)


# --- customer 360 (tests/e2e/test_customer_360.py) ---------------------------------------------
LI_NA_PHONE = "+8613700137000"  # not CUSTOMER_PHONE: inbound SMS tests expect a customer of their own
LI_NA_EMAIL = "li.na@example.test"
LI_NA_WECHAT = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
CTI_SECRET = "e2e-cti-signing-secret-0123456789"
PAST_SUBJECT = "WeChat bill question from March"


def _seed_customer(ids: dict[str, object]) -> None:
    """Li Na's identities on four channels, a closed WeChat ticket, a value score row as a scoring
    run writes it (index computed by the value module) and a PBX account for the screen-pop."""
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from service_hub.auth.principal import Principal
    from service_hub.core.extensions import db
    from service_hub.customers.models import Customer, IdentityKind, Tier
    from service_hub.inbound.accounts import create_account
    from service_hub.org.models import Agent, Department
    from service_hub.tickets.models import Channel, Direction, Priority, TicketStatus
    from service_hub.value import index
    from service_hub.value.config import DEFAULT_MODEL
    from service_hub.value.models import CustomerScore, TierChange, ValueRun
    from tests.factories import IdentityFactory, MessageFactory, TicketFactory

    customer = db.session.get(Customer, ids["customer"])
    front = db.session.get(Department, ids["front"])
    assert customer is not None and front is not None
    IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value=LI_NA_PHONE, verified=True)
    IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value=LI_NA_EMAIL, verified=True)
    IdentityFactory(customer=customer, kind=IdentityKind.WECHAT, account="wx-e2e-app", value=LI_NA_WECHAT)
    IdentityFactory(customer=customer, kind=IdentityKind.WHATSAPP, value=LI_NA_PHONE)

    now = datetime.now(UTC)
    past = TicketFactory(
        subject=PAST_SUBJECT, status=TicketStatus.CLOSED, priority=Priority.LOW, channel=Channel.WECHAT,
        customer=customer, department=front, last_message_at=now - timedelta(days=3),
    )  # fmt: skip
    MessageFactory(
        ticket=past,
        direction=Direction.INBOUND,
        channel=Channel.WECHAT,
        body_text="Why is my March bill so high?",
        created_at=past.last_message_at,
    )

    caps = {"monetary": 5000.0, "frequency": 20.0, "avg_arpu": 300.0, "clv": 20000.0, "spend_trend": 1.0,
            "tenure_days": 2000.0, "recency_days": 365.0, "churn_risk": 100.0}  # fmt: skip
    today = now.date()
    run = ValueRun(kind="full", as_of=today, model_version=0, status="done", statistics={"caps": caps, "means": {}, "quintiles": {}})
    db.session.add(run)
    db.session.flush()
    score = CustomerScore(
        customer_id=customer.id, run_id=run.id, as_of=today, recency_days=12, frequency=14, monetary=Decimal("4200.00"),
        first_purchase_on=date(2021, 3, 1), last_purchase_on=today - timedelta(days=12), lifetime_purchases=60,
        r_score=5, f_score=5, m_score=5, segment8="important_value", segment10="champions", avg_arpu=Decimal("260.00"),
        clv_simple=Decimal("18500.00"), clv_contract=None, tenure_days=1900, spend_recent=Decimal("700.00"),
        spend_prior=Decimal("1100.00"), purchases_recent=3, purchases_prior=4, complaints_recent=1, breaches_recent=0,
        lifecycle="loyal", churn_risk=35.0, churn_reasons="spend_falling,complaint", tier="normal", tier_rule="",
    )  # fmt: skip
    mapping = {column.key: getattr(score, column.key) for column in CustomerScore.__table__.columns}
    score.value_index = index.explain(mapping, caps, DEFAULT_MODEL)["index"]
    # The tier as scoring would set it: the first rule of the model the customer meets.
    values = {"index": score.value_index, "arpu": float(score.avg_arpu or 0)}
    rule = next((r for r in DEFAULT_MODEL.tier_rules if values[r.basis] >= r.minimum), None)
    score.tier, score.tier_rule = (rule.tier, rule.label) if rule else ("normal", "normal: no rule met")
    db.session.add(score)
    db.session.add(TierChange(customer_id=customer.id, from_tier="normal", to_tier=score.tier, value_index=score.value_index,
                              rule=score.tier_rule, run_id=run.id, changed_at=now))  # fmt: skip
    customer.tier = Tier(score.tier)
    db.session.commit()

    root = db.session.get(Agent, ids["root"])
    assert root is not None
    pbx = create_account(
        Principal(agent=root, via="system"),
        {
            "kind": "phone.cti",
            "name": "Hotline PBX",
            "is_active": True,
            "default_department_id": front.id,
            "credentials": {"signing_secret": CTI_SECRET},
            "settings": {"webhook_base_url": "http://localhost"},
        },
    )
    ids.update({"customer_tier": score.tier, "customer_tier_rule": score.tier_rule, "past_ticket": past.id, "cti_slug": pbx.slug})


# --- supervisor dashboard and department board (tests/e2e/test_supervisor_and_board.py) ----------
COMPLAINT_SUBJECT = "Charged twice for the roaming pack"
RISK_SUBJECT = "Promised callback never came"


def _seed_supervisor(ids: dict[str, object]) -> None:
    """A complaint forwarded to dispatch (the front line gains the dispatcher function, as in
    tests/casework/test_case_api.py), a ticket whose running resolution clock the test brings past
    its warning, and an API token for Sue so the test can act through the API."""
    from datetime import UTC, datetime, timedelta

    from service_hub.auth.operations import create_token
    from service_hub.auth.principal import Principal
    from service_hub.casework import case_engine
    from service_hub.casework.models import SlaClock
    from service_hub.core.extensions import db
    from service_hub.org.models import Agent, Department
    from service_hub.tickets.models import Channel, Priority
    from service_hub.tickets.operations import create_ticket
    from tests.factories import TicketFactory

    front, sue, ada = db.session.get(Department, ids["front"]), db.session.get(Agent, ids["sue"]), db.session.get(Agent, ids["ada"])
    assert front is not None and sue is not None and ada is not None
    front.functions = sorted({*(front.functions or []), "front_line", "dispatcher"})
    db.session.commit()

    principal = Principal(agent=sue, via="system")
    complaint = create_ticket(
        principal,
        {
            "subject": COMPLAINT_SUBJECT,
            "channel": Channel.PHONE,
            "department_id": front.id,
            "customer_id": ids["customer"],
            "custom_fields": {"category": "complaint", "summary": "Roaming pack billed on the 3rd and again on the 4th"},
        },
    )
    db.session.commit()
    case_engine.perform(principal, complaint, "forward", {}, None, complaint.version)  # commits

    now = datetime.now(UTC)
    risk = TicketFactory(subject=RISK_SUBJECT, priority=Priority.HIGH, department=front, assignee=ada)
    db.session.flush()
    clock = SlaClock(
        ticket_id=risk.id, kind="resolution", calendar_key="24x7", status="running", target_seconds=7200.0, warning_share=0.75,
        business_seconds_used=0.0, started_at=now, running_since=now, due_at=now + timedelta(hours=2), warn_at=now + timedelta(minutes=90),
    )  # fmt: skip
    db.session.add(clock)
    db.session.commit()
    token = create_token(sue, "e2e-supervisor", ["tickets:read", "tickets:write"], None)[1]
    db.session.commit()
    ids.update(
        {
            "sv_complaint": complaint.id,
            "sv_complaint_number": complaint.number,
            "sv_risk_ticket": risk.id,
            "sv_risk_number": risk.number,
            "sv_risk_clock": clock.id,
            "sue_token": token,
        }
    )


# --- the end-to-end story (tests/e2e/test_scenario.py) -----------------------------------
SCENARIO_PHONE = "+8613500135000"  # a number of its own: other tests text from theirs
SCENARIO_SUBJECT = "Billed for an SMS bundle I cancelled"


def _seed_scenario(ids: dict[str, object]) -> None:
    """A complaint that came in by SMS three days ago, registered by the front line and forwarded to
    dispatch, with its SMS conversation (the account and the customer's number): the customer's next
    SMS lands on it. A new SMS opens a general enquiry, which has no dispatch; this is the case a
    customer's SMS can reach that a dispatcher sends to the back office. Older than every other
    active ticket, so it is on no first page sorted by last activity until the customer writes."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from service_hub.auth.principal import Principal
    from service_hub.casework import case_engine
    from service_hub.core.extensions import db
    from service_hub.customers.identities import normalise_identity
    from service_hub.customers.models import IdentityKind
    from service_hub.inbound.models import ChannelConversation
    from service_hub.org.models import Agent, Department
    from service_hub.tickets.models import Channel, Message, Ticket
    from service_hub.tickets.operations import create_ticket
    from tests.factories import CustomerFactory, IdentityFactory

    front, ada = db.session.get(Department, ids["front"]), db.session.get(Agent, ids["ada"])
    assert front is not None and ada is not None
    customer = CustomerFactory(name="Wang Fang")
    identity = IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value=normalise_identity(IdentityKind.PHONE, SCENARIO_PHONE))
    db.session.commit()
    principal = Principal(agent=ada, via="system")
    complaint = create_ticket(
        principal,
        {
            "subject": SCENARIO_SUBJECT,
            "channel": Channel.SMS,
            "department_id": front.id,
            "customer_id": customer.id,
            "custom_fields": {"category": "complaint", "summary": "SMS bundle cancelled on the 1st, billed again on the 5th"},
            "message": {"body_text": "I cancelled the SMS bundle on the 1st and you billed me again on the 5th."},
        },
    )
    db.session.add(
        ChannelConversation(account_id=ids["sms_account"], address=identity.value, identity_id=identity.id, ticket_id=complaint.id)
    )
    db.session.commit()
    case_engine.perform(principal, complaint, "forward", {}, None, complaint.version)  # commits
    then = datetime.now(UTC) - timedelta(days=3)
    db.session.execute(sa.update(Ticket).where(Ticket.id == complaint.id).values(created_at=then, updated_at=then, last_message_at=then))
    db.session.execute(sa.update(Message).where(Message.ticket_id == complaint.id).values(created_at=then))
    db.session.commit()
    ids.update({"sc_ticket": complaint.id, "sc_number": complaint.number, "sc_customer": customer.id})
