"""Rooms, the live publisher and catch-up, with real Socket.IO clients against a real `flask serve`.

The server runs in its own process on its own SQLite file (like tests/e2e): create_app() binds
module-level extensions, so a second app inside the pytest process would rebind them. Outbox
events are committed through a separate engine, as a web or worker process would commit them; the
served process's publisher (started by `flask serve`) emits them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import socketio
import sqlalchemy as sa

from tests.realtime.served_app import serve

WAIT = 10.0


def seed_main() -> None:
    """Run in a subprocess: migrate, add two centres' worth of org and tickets, print ids and tokens."""
    from flask_migrate import upgrade

    from service_hub import create_app
    from service_hub.auth.operations import create_token
    from service_hub.core.extensions import db
    from service_hub.org.models import DepartmentKind, Role
    from tests.factories import AgentFactory, DepartmentFactory, TicketFactory

    app = create_app()
    with app.app_context():
        upgrade()
        centre_a = DepartmentFactory(kind=DepartmentKind.CENTRE)
        centre_b = DepartmentFactory(kind=DepartmentKind.CENTRE)
        dept_a = DepartmentFactory(parent=centre_a)
        dept_b = DepartmentFactory(parent=centre_b)
        agent_a = AgentFactory(departments=[dept_a])
        supervisor_a = AgentFactory(role=Role.SUPERVISOR, departments=[centre_a])
        ticket_a = TicketFactory(department=dept_a)
        ticket_b = TicketFactory(department=dept_b)
        db.session.commit()
        seeded = {
            "dept_a": dept_a.id,
            "dept_b": dept_b.id,
            "ticket_a": ticket_a.id,
            "ticket_b": ticket_b.id,
            "agent_token": create_token(agent_a, "rt", ["tickets:read"], None)[1],
            "supervisor_token": create_token(supervisor_a, "rt", ["tickets:read"], None)[1],
        }
    print(json.dumps(seeded), flush=True)


@dataclass
class Served:
    url: str
    engine: sa.Engine
    ids: dict[str, Any]

    def commit_events(self, rooms_per_event: list[list[str]]) -> list[int]:
        """Commit outbox events (one transaction) the way an operation does; returns their seqs."""
        from service_hub.core.outbox import OutboxEvent

        table = OutboxEvent.__table__
        seqs = []
        with self.engine.begin() as conn:
            for n, rooms in enumerate(rooms_per_event):
                row = {"event_type": "ticket.updated", "rooms": rooms, "payload": {"n": n}, "created_at": datetime.now(UTC)}
                seqs.append(conn.execute(table.insert().returning(table.c.id), row).scalar_one())
        return seqs


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Served]:
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("runs its own SQLite instance, in the SQLite pass only")
    with serve(tmp_path_factory.mktemp("rt-instance"), {}, seed_module=__name__) as running:
        yield Served(running.url, running.engine, running.ids)


class Listener:
    """A connected socketio.Client that records every live "event" it receives."""

    def __init__(self, served: Served, token: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.received: list[dict[str, Any]] = []
        self._arrived = threading.Condition()

        @self.client.on("event")
        def _on_event(message: dict[str, Any]) -> None:
            with self._arrived:
                self.received.append(message)
                self._arrived.notify_all()

        self.client.connect(served.url, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT)

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.client.call(event, data, timeout=WAIT)  # type: ignore[no-any-return]

    def wait_for(self, seq: int) -> list[int]:
        """Block until the event with this seq arrived; returns every seq received so far."""
        with self._arrived:
            assert self._arrived.wait_for(lambda: any(m["seq"] == seq for m in self.received), timeout=WAIT), (
                f"event {seq} never arrived; got {[m['seq'] for m in self.received]}"
            )
            return [m["seq"] for m in self.received]

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def listeners(served: Served) -> Iterator[list[Listener]]:
    opened: list[Listener] = []
    yield opened
    for listener in opened:
        listener.close()


def test_joins_follow_the_api_access_rules(served: Served, listeners: list[Listener]) -> None:
    ids = served.ids
    agent = Listener(served, ids["agent_token"])
    supervisor = Listener(served, ids["supervisor_token"])
    listeners += [agent, supervisor]

    assert agent.call("join", {"room": f"ticket:{ids['ticket_b']}"}) == {
        "ok": False,
        "code": "not_visible",
        "detail": f"ticket {ids['ticket_b']} is not visible to you",
    }
    assert agent.call("join", {"room": f"department:{ids['dept_b']}"})["code"] == "not_visible"
    assert agent.call("join", {"room": "supervisors"}) == {"ok": False, "code": "forbidden", "detail": "supervisors only"}
    assert agent.call("join", {"room": "agent:999999"})["code"] == "forbidden"
    assert agent.call("join", {"room": "everything"})["code"] == "bad_room"

    assert agent.call("join", {"room": f"ticket:{ids['ticket_a']}"}) == {"ok": True}
    assert agent.call("join", {"room": f"department:{ids['dept_a']}"}) == {"ok": True}
    assert supervisor.call("join", {"room": "supervisors"}) == {"ok": True}
    # A supervisor sees the whole centre, but not the other one.
    assert supervisor.call("join", {"room": f"ticket:{ids['ticket_a']}"}) == {"ok": True}
    assert supervisor.call("join", {"room": f"ticket:{ids['ticket_b']}"})["ok"] is False


def test_a_joined_room_receives_live_events_once_and_nothing_else(served: Served, listeners: list[Listener]) -> None:
    ids = served.ids
    ticket_a, ticket_b, dept_a = f"ticket:{ids['ticket_a']}", f"ticket:{ids['ticket_b']}", f"department:{ids['dept_a']}"
    agent = Listener(served, ids["agent_token"])
    listeners.append(agent)
    assert agent.call("join", {"room": ticket_a})["ok"]
    assert agent.call("join", {"room": dept_a})["ok"]
    assert agent.call("join", {"room": ticket_b})["ok"] is False

    forbidden, both, marker = served.commit_events([[ticket_b], [ticket_a, dept_a], [ticket_a]])
    seen = agent.wait_for(marker)  # one socket, emitted in seq order: anything earlier is here by now
    assert seen == [both, marker]
    assert forbidden not in seen
    message = agent.received[0]
    assert message["type"] == "ticket.updated" and message["data"] == {"n": 1}
    assert datetime.fromisoformat(message["at"]).tzinfo is not None

    assert agent.call("leave", {"room": ticket_a}) == {"ok": True}
    (after_leave,) = served.commit_events([[ticket_a]])
    (still_joined,) = served.commit_events([[dept_a]])
    assert agent.wait_for(still_joined)[-1] == still_joined and after_leave not in agent.wait_for(still_joined)


def test_reconnect_catches_up_exactly_the_missed_events(served: Served, listeners: list[Listener]) -> None:
    ids = served.ids
    ticket_a, ticket_b = f"ticket:{ids['ticket_a']}", f"ticket:{ids['ticket_b']}"
    first = Listener(served, ids["agent_token"])
    fresh = first.call("resume", {"last_seq": None, "rooms": [ticket_a]})
    assert fresh["ok"] and fresh["joined"] == [ticket_a] and fresh["events"] == []
    (last_live,) = served.commit_events([[ticket_a]])
    last_seq = first.wait_for(last_live)[-1]
    first.close()

    # While disconnected: 100 changes to a ticket it may see, interleaved with some it may not.
    rooms = [[ticket_a] if n % 5 else [ticket_b] for n in range(125)]
    committed = served.commit_events(rooms)
    missed = [seq for seq, r in zip(committed, rooms, strict=True) if r == [ticket_a]]
    assert len(missed) == 100

    again = Listener(served, ids["agent_token"])
    listeners.append(again)
    reply = again.call("resume", {"last_seq": last_seq, "rooms": [ticket_a, ticket_b]})
    assert reply["ok"] and reply["joined"] == [ticket_a] and reply["truncated"] is False
    assert reply["refused"] == [{"room": ticket_b, "code": "not_visible", "detail": f"ticket {ids['ticket_b']} is not visible to you"}]
    assert [e["seq"] for e in reply["events"]] == missed  # exactly these, in order, none twice, none forbidden
    # The live stream continues from there. Events committed before the join but published after
    # it arrive live as well; the client drops them by seq (the catch-up contract).
    (next_live,) = served.commit_events([[ticket_a]])
    live = again.wait_for(next_live)
    assert set(live) <= {*missed, next_live}
    applied = {e["seq"]: e for e in [*reply["events"], *again.received]}
    assert sorted(applied) == [*missed, next_live]


def test_a_client_too_far_behind_is_told_to_reload(served: Served, listeners: list[Listener]) -> None:
    ticket_a = f"ticket:{served.ids['ticket_a']}"
    agent = Listener(served, served.ids["agent_token"])
    listeners.append(agent)
    head = agent.call("resume", {"last_seq": None, "rooms": []})["head"]
    served.commit_events([[ticket_a]] * 1001)
    reply = agent.call("resume", {"last_seq": head, "rooms": [ticket_a]})
    assert reply["truncated"] is True and len(reply["events"]) == 1000
    assert agent.call("resume", {"last_seq": "x", "rooms": []})["code"] == "bad_request"


def test_publisher_publishes_a_late_commit_in_a_gap(app) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL ids can commit out of order: 11 visible before 10. 10 must still go out once."""
    from service_hub.core.extensions import db
    from service_hub.core.outbox import OutboxEvent
    from service_hub.realtime.publisher import Publisher

    emitted: list[tuple[int, list[str]]] = []
    with app.app_context():
        publisher = Publisher.from_database_head(lambda name, message, rooms: emitted.append((message["seq"], rooms)))
    head = publisher.last_id
    db.session.add(OutboxEvent(id=head + 2, event_type="t", rooms=["ticket:1"], payload={}))
    db.session.commit()
    publisher.poll()
    assert emitted == [(head + 2, ["ticket:1"])] and set(publisher.gaps) == {head + 1}
    db.session.add(OutboxEvent(id=head + 1, event_type="t", rooms=["ticket:1"], payload={}))
    db.session.commit()
    publisher.poll()
    publisher.poll()
    assert [seq for seq, _ in emitted] == [head + 2, head + 1] and publisher.gaps == {}
