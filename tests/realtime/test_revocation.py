"""Access revoked after a join: the socket leaves the room (room_revoked) or, deactivated, is disconnected.

A real `flask serve` (tests/realtime/served_app.py) with REALTIME_REVALIDATE_SECONDS=0.3, real
python-socketio clients; access changes are committed through the test's own engine, as the admin
screens of another process would commit them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.realtime.served_app import Client, Served, serve, wait_until

WATCH = ("event", "room_revoked")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Served]:
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("runs its own SQLite instance, in the SQLite pass only")
    with serve(tmp_path_factory.mktemp("rt-revocation"), {"REALTIME_REVALIDATE_SECONDS": "0.3"}) as server:
        yield server


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


def _commit(served: Served, sql: str, **params: object) -> None:
    with served.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _commit_event(served: Served, rooms: list[str]) -> int:
    from service_hub.core.outbox import OutboxEvent

    table = OutboxEvent.__table__
    with served.engine.begin() as conn:
        row = {"event_type": "ticket.updated", "rooms": rooms, "payload": {}, "created_at": datetime.now(UTC)}
        return int(conn.execute(table.insert().returning(table.c.id), row).scalar_one())


def test_removed_from_the_department_leaves_its_rooms(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    dept_a, ticket_a = f"department:{ids['dept_a']}", f"ticket:{ids['ticket_a']}"
    bo = Client(served, ids["bo_token"], WATCH)
    supervisor = Client(served, ids["supervisor_token"], WATCH)
    clients += [bo, supervisor]
    assert bo.call("resume", {"last_seq": None, "rooms": [dept_a, ticket_a]})["joined"] == [dept_a, ticket_a]
    assert supervisor.call("join", {"room": dept_a}) == {"ok": True}

    _commit(served, "DELETE FROM department_memberships WHERE agent_id = :agent", agent=ids["bo"])

    revoked = {bo.wait_for("room_revoked", lambda m, r=room: m["room"] == r)["room"] for room in (dept_a, ticket_a)}
    assert revoked == {dept_a, ticket_a}
    assert bo.messages("room_revoked")[0]["code"] == "not_visible" and bo.messages("room_revoked")[0]["detail"]
    # From then on the department's events reach the supervisor, not Bo, who stays connected.
    seq = _commit_event(served, [dept_a])
    supervisor.wait_for("event", lambda m: m["seq"] == seq)
    assert seq not in [m["seq"] for m in bo.messages("event")]
    assert bo.client.connected
    assert bo.call("join", {"room": dept_a})["code"] == "not_visible"


def test_a_revoked_invitation_takes_the_ticket_room_away(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    ticket_a = f"ticket:{ids['ticket_a']}"
    cy = Client(served, ids["cy_token"], WATCH)  # of centre B: sees ticket A only while invited
    clients.append(cy)
    assert cy.call("join", {"room": ticket_a})["code"] == "not_visible"
    _commit(
        served,
        "INSERT INTO ticket_invitations (ticket_id, department_id, created_at) VALUES (:ticket, :dept, :now)",
        ticket=ids["ticket_a"],
        dept=ids["dept_b"],
        now=datetime.now(UTC),
    )
    assert cy.call("join", {"room": ticket_a}) == {"ok": True}
    live = _commit_event(served, [ticket_a])
    cy.wait_for("event", lambda m: m["seq"] == live)

    _commit(
        served, "UPDATE ticket_invitations SET revoked_at = :now WHERE ticket_id = :ticket", now=datetime.now(UTC), ticket=ids["ticket_a"]
    )

    notice = cy.wait_for("room_revoked", lambda m: m["room"] == ticket_a)
    assert notice == {"room": ticket_a, "code": "not_visible", "detail": f"ticket {ids['ticket_a']} is not visible to you"}
    after = _commit_event(served, [ticket_a])
    marker = _commit_event(served, [f"agent:{ids['cy']}"])  # still delivered: the socket stays
    cy.wait_for("event", lambda m: m["seq"] == marker)
    assert after not in [m["seq"] for m in cy.messages("event")]


def test_a_deactivated_agent_is_disconnected(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    ada = Client(served, ids["ada_token"], WATCH)
    clients.append(ada)
    assert ada.call("join", {"room": f"department:{ids['dept_a']}"}) == {"ok": True}
    _commit(served, "UPDATE agents SET is_active = false WHERE id = :agent", agent=ids["ada"])
    assert wait_until(lambda: not ada.client.connected, timeout=5), "the socket of a deactivated agent stayed open"
