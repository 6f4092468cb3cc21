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


# --- the amortised re-check, in process: which sockets a tick touches and what it computes -------


def test_a_tick_rechecks_its_slice_and_an_unchanged_agent_costs_no_scope(app, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from collections import deque

    from service_hub.auth.operations import create_token
    from service_hub.core.extensions import db, socketio
    from service_hub.org.models import DepartmentMembership
    from service_hub.realtime import rooms
    from tests.factories import AgentFactory

    # This test's sockets only, a fresh round and no remembered scopes.
    monkeypatch.setattr(rooms, "_principals", {})
    monkeypatch.setattr(rooms, "_pending", deque())
    monkeypatch.setattr(rooms, "_checked", {})
    computed: list[int] = []
    real_compute_scope = rooms.compute_scope

    def counting_compute_scope(agent):  # type: ignore[no-untyped-def]
        computed.append(agent.id)
        return real_compute_scope(agent)

    monkeypatch.setattr(rooms, "compute_scope", counting_compute_scope)

    agents = [AgentFactory(departments=[world.dept_a]) for _ in range(10)]
    dept_a, ticket_a = f"department:{world.dept_a.id}", f"ticket:{world.ticket_a.id}"
    clients = []
    for n, agent in enumerate(agents):
        _, secret = create_token(agent, "rt", ["tickets:read"], None)
        client = socketio.test_client(app, auth={"token": secret})
        wanted = [dept_a, ticket_a] if n % 2 else [dept_a]
        assert client.emit("resume", {"last_seq": None, "rooms": wanted}, callback=True)["joined"] == wanted
        client.get_received()
        clients.append(client)
    sid_of = {agent_id: sid for sid, (agent_id, _) in rooms._principals.items()}
    sids_in_order = [sid_of[agent.id] for agent in agents]
    assert rooms.slice_size(10, period=5.0) == 2

    def tick() -> rooms.RecheckStats:
        computed.clear()
        with app.app_context():
            return rooms.recheck_slice(rooms.slice_size(len(rooms._principals), period=5.0))

    # The first round: two sockets per tick, in connect order; each agent's scope computed once.
    first_round = [tick() for _ in range(5)]
    assert [stats.sids for stats in first_round] == [sids_in_order[i : i + 2] for i in range(0, 10, 2)]
    assert all(stats.scopes_computed == 2 and stats.rooms_left == 0 for stats in first_round)

    # The next round: nothing changed, so no scope at all, and the rooms stay.
    stats = tick()
    assert stats.sids == sids_in_order[:2] and stats.scopes_computed == 0 and computed == []

    # A changed agent (removed from the department) is recomputed and leaves the room; the other is not.
    db.session.delete(db.session.get(DepartmentMembership, (agents[2].id, world.dept_a.id)))
    db.session.commit()
    stats = tick()
    assert stats.sids == sids_in_order[2:4] and computed == [agents[2].id] and stats.rooms_left == 1
    assert [m["args"][0]["room"] for m in clients[2].get_received() if m["name"] == "room_revoked"] == [dept_a]
    assert clients[3].get_received() == []

    # Ticket rooms are re-checked against the ticket every time: moved away, it is left, with no scope computed.
    world.ticket_a.department = world.dept_b
    db.session.commit()
    stats = tick()
    assert stats.sids == sids_in_order[4:6] and computed == [] and stats.rooms_left == 1
    assert clients[4].get_received() == []
    assert [m["args"][0] for m in clients[5].get_received() if m["name"] == "room_revoked"] == [
        {"room": ticket_a, "code": "not_visible", "detail": f"ticket {world.ticket_a.id} is not visible to you"}
    ]
    for client in clients:
        client.disconnect()


def test_a_revoked_token_ends_its_socket(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    cy = Client(served, ids["cy_token"], WATCH)
    clients.append(cy)
    assert cy.call("join", {"room": f"department:{ids['dept_b']}"}) == {"ok": True}
    _commit(served, "UPDATE api_tokens SET revoked_at = :now WHERE agent_id = :agent", now=datetime.now(UTC), agent=ids["cy"])
    assert wait_until(lambda: not cy.client.connected, timeout=5), "a socket outlived its revoked token"


def test_a_session_ended_everywhere_ends_its_sockets(app, world, login_as, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """In process: a socket authenticated by the session cookie is dropped when the session generation moves on."""
    from collections import deque

    from service_hub.core.extensions import db, socketio
    from service_hub.realtime import rooms

    for name, fresh in (("_principals", {}), ("_credentials", {}), ("_pending", deque()), ("_checked", {})):
        monkeypatch.setattr(rooms, name, fresh)  # this test's socket only
    client = socketio.test_client(app, flask_test_client=login_as(world.agent_a).client)
    assert client.is_connected()
    (sid,) = rooms._principals
    assert rooms._credentials[sid] == ("session", world.agent_a.session_generation)

    with app.app_context():
        assert rooms.recheck_slice(len(rooms._principals)).dropped == 0  # nothing ended yet
    world.agent_a.session_generation += 1  # what "log out everywhere" and a password change do
    db.session.commit()
    with app.app_context():
        stats = rooms.recheck_slice(len(rooms._principals))
    assert stats.dropped == 1
    assert not client.is_connected()
    assert sid not in rooms._principals
