"""A throwaway Service Hub for browser tests: migrate a fresh SQLite database, add one agent and a
few tickets, serve on a free port and print `READY <port>`.

Run as its own process (`python -m tests.e2e.live_server`) with SERVICE_HUB_INSTANCE and
DATABASE_URL pointing at a temporary folder: create_app() binds module-level extensions (db,
Celery's default app, Socket.IO), so a second app inside the pytest process would rebind them
under the suite's own app.
"""

from __future__ import annotations

import sys

from flask_migrate import upgrade
from werkzeug.serving import make_server

from service_hub import create_app
from service_hub.core.extensions import db
from service_hub.tickets.models import Direction, Priority

AGENT_EMAIL = "e2e.agent@example.test"
SUBJECT = "Roaming data stopped in Bangkok"
# Markup in user data must reach the page as text, never as HTML.
HOSTILE_SUBJECT = '<img src=x id="injected">Refund <b>now</b>'
MESSAGE = "Since this morning my phone says <no service> abroad.\nPlease help."
OTHER_TICKETS = 30  # more than one page of 25


def seed() -> None:
    from tests.factories import AgentFactory, CustomerFactory, DepartmentFactory, MessageFactory, TicketFactory

    department = DepartmentFactory(name="Beijing Front line")
    agent = AgentFactory(email=AGENT_EMAIL, name="E2E Agent", departments=[department])
    customer = CustomerFactory(name="Li Na")
    ticket = TicketFactory(subject=SUBJECT, priority=Priority.URGENT, customer=customer, department=department, assignee=agent)
    MessageFactory(ticket=ticket, direction=Direction.INBOUND, body_text=MESSAGE)
    TicketFactory(subject=HOSTILE_SUBJECT, priority=Priority.HIGH, customer=customer, department=department)
    for n in range(OTHER_TICKETS):
        TicketFactory(subject=f"Routine question {n}", priority=Priority.LOW, department=department)
    db.session.commit()


def main() -> None:
    app = create_app()
    with app.app_context():
        upgrade()
        seed()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"READY {server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
