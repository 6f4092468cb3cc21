"""Screen-pop: a signed CTI 'ringing' for an agent reaches that agent's real Socket.IO client within a second.

A real `flask serve` on its own SQLite file (the tests/realtime pattern): the webhook is stored,
processed (eagerly, embedded mode) and its outbox event emitted by the served process's publisher.
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

from channels.voice.cti import sign
from tests.realtime.served_app import Client, Served, serve

SECRET = "screen-pop-secret-0123456789"
CALLER = "+8613900139000"


def seed_main() -> None:
    from flask_migrate import upgrade

    from service_hub import create_app
    from service_hub.auth.operations import create_token
    from service_hub.core.extensions import db
    from service_hub.customers.models import IdentityKind, Tier
    from service_hub.inbound import credential_vault
    from service_hub.inbound.models import ChannelAccount
    from service_hub.org.models import DepartmentKind, Presence
    from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory, IdentityFactory, TicketFactory

    app = create_app()
    with app.app_context():
        upgrade()
        centre = DepartmentFactory(kind=DepartmentKind.CENTRE, name="Centre")
        dept = DepartmentFactory(parent=centre, name="Hotline")
        ada = AgentFactory(name="Ada", departments=[dept], presence=Presence.OFFLINE)
        bo = AgentFactory(name="Bo", departments=[dept], presence=Presence.OFFLINE)
        customer = CustomerFactory(name="王芳", tier=Tier.DIAMOND)
        IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value=CALLER)
        TicketFactory(department=dept, customer=customer, subject="宽带断线")
        account = ChannelAccount(
            kind="phone.cti",
            name="PBX",
            slug="pbx-screen-pop",
            credentials_encrypted=credential_vault.encrypt({"signing_secret": SECRET}),
            settings={},
            default_department_id=dept.id,
        )
        db.session.add(account)
        db.session.commit()
        scopes = ["tickets:read", "tickets:write"]
        print(
            json.dumps(
                {
                    "ada": ada.id,
                    "ada_token": create_token(ada, "rt", scopes, None)[1],
                    "bo_token": create_token(bo, "rt", scopes, None)[1],
                }
            ),
            flush=True,
        )


def _cti(served: Served, event: dict[str, Any]) -> int:
    body = json.dumps(event).encode()
    ts = str(int(time.time()))
    request = urllib.request.Request(
        served.url + "/hooks/phone/cti/pbx-screen-pop",
        method="POST",
        data=body,
        headers={"Content-Type": "application/json", "X-CTI-Timestamp": ts, "X-CTI-Signature": sign(SECRET, ts, body)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_the_ringing_agent_gets_the_customer_card_within_a_second_and_no_one_else(tmp_path):
    with serve(tmp_path, {}, seed_module=__name__) as served:
        ada = Client(served, served.ids["ada_token"], watch=("event",))
        bo = Client(served, served.ids["bo_token"], watch=("event",))
        try:
            at = datetime.now(UTC).isoformat()
            assert _cti(served, {"call_id": "CA-POP", "type": "ringing", "sequence": 1, "occurred_at": at, "from": CALLER}) == 200
            event = {
                "call_id": "CA-POP",
                "type": "ringing",
                "sequence": 2,
                "occurred_at": at,
                "from": CALLER,
                "agent_id": served.ids["ada"],
            }
            assert _cti(served, event) == 200
            answered = time.monotonic()
            pop = ada.wait_for("event", lambda m: m["type"] == "call.ringing", timeout=5)
            arrived = next(t for t, m in ada.received["event"] if m["type"] == "call.ringing")
            assert arrived - answered < 1.0, f"the screen-pop took {arrived - answered:.2f} s"
            card = pop["data"]["customer"]
            assert card["name"] == "王芳" and card["tier"] == "diamond"
            assert card["identities"] == [{"kind": "phone", "value": CALLER}]
            assert [t["subject"] for t in card["open_tickets"]] == ["宽带断线"]
            time.sleep(0.6)  # two publisher polls: Bo would have had it by now
            assert [m for m in bo.messages("event") if m["type"] == "call.ringing"] == []
        finally:
            ada.close()
            bo.close()


def test_the_card_shows_only_the_tickets_the_ringing_agent_may_open(app, world) -> None:  # type: ignore[no-untyped-def]
    """A caller with a case in another department: the card must not show its subject or words."""
    from service_hub.core.extensions import db
    from service_hub.inbound.voice import customer_card
    from service_hub.tickets.models import Direction
    from tests.factories import CustomerFactory, MessageFactory, TicketFactory

    customer = CustomerFactory()
    mine = TicketFactory(customer=customer, department=world.dept_a, subject="Bill too high")
    theirs = TicketFactory(customer=customer, department=world.dept_b, subject="Private matter elsewhere")
    MessageFactory(ticket=mine, direction=Direction.INBOUND, body_text="about my bill")
    MessageFactory(ticket=theirs, direction=Direction.INBOUND, body_text="secret words")
    db.session.commit()

    card = customer_card(customer, world.agent_a)
    assert [t["id"] for t in card["open_tickets"]] == [mine.id]  # type: ignore[index]
    assert [c["ticket_id"] for c in card["last_contacts"]] == [mine.id]  # type: ignore[index]
    assert "secret words" not in str(card) and "Private matter" not in str(card)
