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
    print(json.dumps(ids), flush=True)
