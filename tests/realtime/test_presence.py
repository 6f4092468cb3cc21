"""Presence on tickets, typing collisions and agents' state following their sockets, over a real `flask serve`.

Plus the Redis presence store against a real Redis (db 15), and the API's reply-collision check.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest

from service_hub.realtime.presence_store import TYPING, VIEWING, MemoryPresenceStore, PresenceStore, RedisPresenceStore, member
from tests.realtime.served_app import Client, Served, serve, wait_until

TYPING_SECONDS = 1
# Longer than a reconnect takes against the development server (a few seconds after a close).
GRACE_SECONDS = 5


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Served]:
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("runs its own SQLite instance, in the SQLite pass only")
    env = {"PRESENCE_TYPING_SECONDS": str(TYPING_SECONDS), "PRESENCE_OFFLINE_GRACE_SECONDS": str(GRACE_SECONDS)}
    with serve(tmp_path_factory.mktemp("presence-instance"), env) as running:
        yield running


@pytest.fixture
def clients(served: Served) -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


def _names(people: list[dict[str, object]]) -> list[object]:
    return [p["name"] for p in people]


def test_two_viewers_see_each_other_and_a_disconnect_removes_one(served: Served, clients: list[Client]) -> None:
    ids, ticket = served.ids, served.ids["ticket_a"]
    ada, bo = Client(served, ids["ada_token"]), Client(served, ids["bo_token"])
    clients += [ada, bo]
    first = ada.call("viewing", {"ticket_id": ticket})
    assert first["ok"] and _names(first["viewers"]) == ["Ada"] and first["typing"] == []
    second = bo.call("viewing", {"ticket_id": ticket})
    assert _names(second["viewers"]) == ["Ada", "Bo"]
    # Ada, already in the ticket's room, is told that Bo arrived.
    ada.wait_for("presence", lambda m: _names(m["viewers"]) == ["Ada", "Bo"] and m["ticket_id"] == ticket)

    bo.close()
    ada.wait_for("presence", lambda m: _names(m["viewers"]) == ["Ada"])
    assert _names(ada.call("presence_state", {"ticket_id": ticket})["viewers"]) == ["Ada"]
    assert ada.call("stopped_viewing", {"ticket_id": ticket}) == {"ok": True}
    assert ada.call("presence_state", {"ticket_id": ticket})["viewers"] == []


def test_typing_expires_without_a_refresh(served: Served, clients: list[Client]) -> None:
    ids, ticket = served.ids, served.ids["ticket_a"]
    ada, bo = Client(served, ids["ada_token"]), Client(served, ids["bo_token"])
    clients += [ada, bo]
    bo.call("viewing", {"ticket_id": ticket})
    started = time.monotonic()
    assert _names(ada.call("typing", {"ticket_id": ticket})["typing"]) == ["Ada"]
    bo.wait_for("presence", lambda m: _names(m["typing"]) == ["Ada"])
    typed = len(bo.messages("presence"))
    # No refresh: the server drops the typist after PRESENCE_TYPING_SECONDS and says so.
    lapsed = bo.wait_for("presence", lambda m: m["ticket_id"] == ticket, timeout=TYPING_SECONDS + 5, since=typed)
    assert lapsed["typing"] == [] and _names(lapsed["viewers"]) == ["Bo"]
    assert time.monotonic() - started >= TYPING_SECONDS * 0.9
    assert ada.call("presence_state", {"ticket_id": ticket})["typing"] == []


def test_a_ticket_the_agent_cannot_see_is_refused(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    ada, cy = Client(served, ids["ada_token"]), Client(served, ids["cy_token"])
    clients += [ada, cy]
    cy.call("viewing", {"ticket_id": ids["ticket_b"]})
    for event in ("viewing", "typing", "presence_state", "stopped_viewing"):
        refused = ada.call(event, {"ticket_id": ids["ticket_b"]})
        assert refused["ok"] is False and refused["code"] == "not_visible", (event, refused)
    assert ada.call("viewing", {"ticket_id": "1"})["code"] == "bad_request"
    # Nothing Ada tried reached ticket B's state.
    assert _names(cy.call("presence_state", {"ticket_id": ids["ticket_b"]})["viewers"]) == ["Cy"]
    assert cy.call("presence_state", {"ticket_id": ids["ticket_b"]})["typing"] == []


def test_two_typists_are_both_warned_and_the_api_reports_an_unseen_reply(served: Served, clients: list[Client]) -> None:
    ids, ticket = served.ids, served.ids["ticket_a"]
    ada, bo = Client(served, ids["ada_token"]), Client(served, ids["bo_token"])
    clients += [ada, bo]
    status, before = served.http("GET", f"/api/v1/tickets/{ticket}", ids["ada_token"])
    assert status == 200
    seen = before["messages"][-1]["id"] if before["messages"] else 0

    ada.call("typing", {"ticket_id": ticket})
    bo.call("typing", {"ticket_id": ticket})
    for client in (ada, bo):
        warning = client.wait_for("collision", lambda m: m["ticket_id"] == ticket)
        assert sorted(_names(warning["typing"])) == ["Ada", "Bo"]

    # Bo sends first, while Ada still types: Bo is told Ada is typing.
    status, bo_reply = served.http(
        "POST", f"/api/v1/tickets/{ticket}/messages", ids["bo_token"], {"kind": "reply", "body_text": "Refunded.", "seen_message_id": seen}
    )
    assert status == 201, bo_reply
    assert _names(bo_reply["collision"]["typing"]) == ["Ada"] and bo_reply["collision"]["newer_replies"] == []

    # Ada asked not to send over a colleague's unseen reply: 409, nothing stored.
    body = {"kind": "reply", "body_text": "We refunded you.", "seen_message_id": seen, "if_no_newer_reply": True}
    status, problem = served.http("POST", f"/api/v1/tickets/{ticket}/messages", ids["ada_token"], body)
    assert status == 409 and problem["type"].endswith("/reply-collision"), problem
    assert [r["message_id"] for r in problem["errors"]["collision"]["newer_replies"]] == [bo_reply["id"]]
    assert "Bo" in problem["detail"]
    count = "SELECT count(*) FROM messages WHERE ticket_id = :t AND author_agent_id = :a"
    assert served.scalar(count, t=ticket, a=ids["ada"]) == 0

    # Having seen Bo's reply, Ada's next reply goes through without a warning about it.
    ada.call("stopped_typing", {"ticket_id": ticket})
    body["seen_message_id"] = bo_reply["id"]
    status, sent = served.http("POST", f"/api/v1/tickets/{ticket}/messages", ids["ada_token"], body)
    assert status == 201 and (sent["collision"] is None or sent["collision"]["newer_replies"] == []), sent


def _presence(served: Served, agent_id: int) -> str:
    return str(served.scalar("SELECT presence FROM agents WHERE id = :a", a=agent_id))


def test_offline_after_the_last_socket_is_gone_for_the_grace(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    first = Client(served, ids["bo_token"])
    clients.append(first)
    # Connecting never puts anyone online: the agent chooses.
    assert _presence(served, ids["bo"]) == "offline"
    assert first.call("back")["presence"] == "online"
    second = Client(served, ids["bo_token"])
    clients.append(second)

    first.close()
    time.sleep(GRACE_SECONDS + 1.5)  # well past the grace and a few sweeps
    assert _presence(served, ids["bo"]) == "online", "another socket of the agent is still connected"

    assert second.call("away")["presence"] == "away"
    second.close()
    assert wait_until(lambda: _presence(served, ids["bo"]) == "offline", timeout=GRACE_SECONDS + 5)
    event = "SELECT count(*) FROM outbox_events WHERE event_type = 'agent.presence' AND payload LIKE :p"
    assert served.scalar(event, p=f'%"agent_id": {ids["bo"]}, "presence": "offline"%') == 1


def test_a_quick_reconnect_does_not_go_offline(served: Served, clients: list[Client]) -> None:
    ids = served.ids
    before = Client(served, ids["ada_token"])
    assert before.call("back")["presence"] == "online"
    before.close()
    after = Client(served, ids["ada_token"])  # a page reload: back within the grace
    clients.append(after)
    time.sleep(GRACE_SECONDS + 1.5)
    assert _presence(served, ids["ada"]) == "online"
    assert after.call("away")["presence"] == "away"


# The stores, without a server


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_store() -> Iterator[RedisPresenceStore]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true and Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")
    prefix = f"test-presence-{uuid.uuid4().hex[:8]}"
    yield RedisPresenceStore(client, prefix=prefix)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def _exercise(store: PresenceStore) -> None:
    """The contract both stores keep; `now` is explicit, so no sleeping."""
    now = 1_000_000.0
    assert store.touch(VIEWING, 7, member(1, "s1"), now + 60) is True
    assert store.touch(VIEWING, 7, member(1, "s1"), now + 61) is False  # a heartbeat, not a change
    assert store.touch(VIEWING, 7, member(2, "s2"), now + 60) is True
    assert store.touch(VIEWING, 7, member(1, "s3"), now + 60) is True  # Ada's second tab
    assert store.touch(TYPING, 7, member(2, "s2"), now + 6) is True
    state = store.state(7, now)
    assert state.viewers == (1, 2) and state.typing == (2,)
    assert store.due_tickets(now + 1) == []
    # The typist lapses: the ticket is due once, to one claimant, and pruning says something went.
    assert store.due_tickets(now + 7) == [7]
    assert store.due_tickets(now + 7) == []
    assert store.prune(7, now + 7) == 1
    assert store.state(7, now + 7).typing == ()
    assert store.remove(VIEWING, 7, member(1, "s1")) is True
    assert store.state(7, now + 7).viewers == (1, 2)  # Ada still views in her other tab
    assert store.remove(VIEWING, 7, member(1, "s1")) is False

    assert store.add_socket(5, "a", now + 60) == 1
    assert store.add_socket(5, "b", now + 60) == 2
    assert store.remove_socket(5, "a", now + 1) == 1
    store.refresh_sockets({"b": 5}, now + 200)  # b's process keeps it alive
    assert store.gone_agents(now + 150, 10) == [] and store.socket_count(5, now + 150) == 1
    assert store.remove_socket(5, "b", now + 150) == 0
    assert store.gone_agents(now + 155, 10) == []  # inside the grace
    assert store.gone_agents(now + 161, 10) == [5]
    assert store.gone_agents(now + 161, 10) == []  # claimed once
    # A process that died never says goodbye: its socket lapses and the agent is gone after the grace.
    assert store.add_socket(6, "dead", now + 60) == 1
    assert store.gone_agents(now + 65, 10) == []
    assert store.gone_agents(now + 71, 10) == [6]


def test_memory_store_contract() -> None:
    _exercise(MemoryPresenceStore())


def test_redis_store_contract(redis_store: RedisPresenceStore) -> None:
    _exercise(redis_store)
