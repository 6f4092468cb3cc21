"""The supervisor stream over a real `flask serve`: content, coalescing, and who may have it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.realtime.served_app import Client, Served, serve, wait_until

SNAPSHOT = "supervisor.snapshot"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Served]:
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("runs its own SQLite instance, in the SQLite pass only")
    with serve(tmp_path_factory.mktemp("supervisor-instance"), {}) as running:
        yield running


@pytest.fixture
def clients(served: Served) -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


def _department(snapshot: dict[str, Any], department_id: int) -> dict[str, Any]:
    return next(d for d in snapshot["departments"] if d["department_id"] == department_id)


def _commit_new_tickets(served: Served, department_id: int, count: int) -> None:
    """Commit `count` waiting tickets, one transaction each with its outbox event, as intake would."""
    from service_hub.core.outbox import OutboxEvent
    from service_hub.tickets.models import Ticket, TicketStatus

    tickets, outbox = Ticket.__table__, OutboxEvent.__table__
    with served.engine.connect() as conn:
        template = dict(conn.execute(sa.select(tickets).where(tickets.c.id == served.ids["ticket_a"])).mappings().one())
        top = conn.execute(sa.select(sa.func.max(tickets.c.number))).scalar_one()
    for n in range(count):
        now = datetime.now(UTC)
        row = template | {"number": top + n + 1, "department_id": department_id, "assignee_id": None, "status": TicketStatus.NEW}
        row |= {"created_at": now, "updated_at": now, "version": 1}
        row.pop("id")
        with served.engine.begin() as conn:
            ticket_id = conn.execute(tickets.insert().returning(tickets.c.id), row).scalar_one()
            event = {"ticket_id": ticket_id, "department_id": department_id}
            conn.execute(
                outbox.insert(),
                {"event_type": "ticket.created", "rooms": [f"department:{department_id}"], "payload": event, "created_at": now},
            )


def test_snapshot_content_and_a_new_ticket_changes_the_queue(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    supervisor = Client(served, ids["supervisor_token"])
    clients.append(supervisor)
    reply = supervisor.call("supervisor_subscribe")
    assert reply["ok"] and [s["centre_id"] for s in reply["snapshots"]] == [ids["centre_a"]]  # not centre B
    current = reply["snapshots"][0]
    dept = _department(current, ids["dept_a"])
    assert dept["name"] == "Billing A" and dept["waiting"] >= 1 and dept["oldest_waiting_since"] is not None
    agents = {a["name"]: a for a in current["agents"]}
    assert {"Ada", "Bo"} <= set(agents) and "Cy" not in agents  # Cy works in centre B
    assert agents["Ada"]["presence"] == "offline" and agents["Ada"]["load"] == 0 and agents["Ada"]["department_ids"] == [ids["dept_a"]]
    assert current["totals"]["waiting"] == sum(d["waiting"] for d in current["departments"])
    assert current["nearing_breach"] == []

    # A ticket opened through the API moves the queue size; the snapshot is pushed, not asked for.
    body = {"subject": "Invoice twice", "department_id": ids["dept_a"], "customer_id": ids["customer_a"]}
    status, created = served.http("POST", "/api/v1/tickets", ids["ada_token"], body)
    assert status == 201, created
    pushed = supervisor.wait_for(SNAPSHOT, lambda s: _department(s, ids["dept_a"])["waiting"] == dept["waiting"] + 1)
    assert pushed["centre_id"] == ids["centre_a"] and datetime.fromisoformat(pushed["at"]).tzinfo is not None

    # An agent's presence is in the figures too: Ada goes online and takes the waiting work.
    status, _ = served.http("PATCH", "/api/v1/me/presence", ids["ada_token"], {"presence": "online"})
    assert status == 200
    online = supervisor.wait_for(SNAPSHOT, lambda s: {a["name"]: a for a in s["agents"]}["Ada"]["presence"] == "online")
    ada = {a["name"]: a for a in online["agents"]}["Ada"]
    assert online["totals"]["agents"]["online"] >= 1 and ada["load"] + _department(online, ids["dept_a"])["waiting"] >= dept["waiting"] + 1
    served.http("PATCH", "/api/v1/me/presence", ids["ada_token"], {"presence": "offline"})


def test_fifty_changes_in_a_second_are_at_most_two_snapshots(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    supervisor = Client(served, ids["supervisor_token"])
    agent = Client(served, ids["ada_token"])
    clients += [supervisor, agent]
    time.sleep(1.2)  # let anything from earlier tests go out first
    before = _department(supervisor.call("supervisor_subscribe")["snapshots"][0], ids["dept_a"])["waiting"]
    started = time.monotonic()
    _commit_new_tickets(served, ids["dept_a"], 50)
    burst = time.monotonic() - started
    assert burst < 1.0, f"the 50 commits took {burst:.2f}s; the test needs them inside one second"

    last = supervisor.wait_for(SNAPSHOT, lambda s: _department(s, ids["dept_a"])["waiting"] == before + 50)
    time.sleep(1.5)  # anything still coalescing would arrive now
    during = [(at, s) for at, s in supervisor.received[SNAPSHOT] if at >= started]
    assert 1 <= len(during) <= 2, [_department(s, ids["dept_a"])["waiting"] for _, s in during]
    assert during[-1][1] == last
    if len(during) == 2:
        assert during[1][0] - during[0][0] >= 0.9  # coalesced: a second apart

    # Changes in centre B are not centre A's business.
    _commit_new_tickets(served, ids["dept_b"], 1)
    time.sleep(1.5)
    assert all(s["centre_id"] == ids["centre_a"] for s in supervisor.messages(SNAPSHOT))


def test_a_non_supervisor_gets_no_stream(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    agent = Client(served, ids["ada_token"])
    supervisor = Client(served, ids["supervisor_token"])
    clients += [agent, supervisor]
    assert agent.call("supervisor_subscribe") == {"ok": False, "code": "forbidden", "detail": "supervisors only"}
    assert agent.call("join", {"room": f"department:{ids['centre_a']}"})["code"] == "not_visible"  # where snapshots go
    assert supervisor.call("supervisor_subscribe")["ok"]
    _commit_new_tickets(served, ids["dept_a"], 1)
    assert supervisor.wait_for(SNAPSHOT, lambda s: True)
    assert wait_until(lambda: False, timeout=0.5) is False  # give a stray emit time to arrive
    assert agent.messages(SNAPSHOT) == []


def test_snapshot_queries_on_this_database(app, world) -> None:  # type: ignore[no-untyped-def]
    """The aggregate queries (window functions included) on SQLite and PostgreSQL alike, without a server."""
    from datetime import timedelta

    from service_hub.casework.models import SlaClock
    from service_hub.core.extensions import db
    from service_hub.realtime.supervisor_stream import snapshots

    now = datetime.now(UTC)
    for n, warned in enumerate([now, now, None]):
        db.session.add(
            SlaClock(
                ticket_id=world.ticket_a.id, kind=f"k{n}", calendar_key="24x7", status="running", target_seconds=60.0,
                warning_share=0.75, started_at=now, due_at=now + timedelta(minutes=10 - n), warned_at=warned,
            )
        )  # fmt: skip
    db.session.flush()
    with app.test_request_context():
        figures = snapshots()
    centre = figures[world.centre_a.id]
    assert world.centre_b.id in figures and figures[world.centre_b.id]["nearing_breach"] == []
    dept = _department(centre, world.dept_a.id)
    assert dept["waiting"] == 1 and dept["nearing_breach"] == 2 and dept["agents"]["online"] == 1
    assert [c["clock"] for c in centre["nearing_breach"]] == ["k1", "k0"]  # nearest due first; k2 never warned
    assert {a["name"] for a in centre["agents"]} == {world.agent_a.name, world.supervisor_a.name}
