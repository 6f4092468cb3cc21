"""My notifications: newest first in keyset pages, the unread filter, and marking read with the count for my other tabs."""

from tests.collab.conftest import events, note, notifications_of, token


def _three_mentions(world, li, login_as):
    api = login_as(world.agent_a)
    for n in range(3):
        note(api, world.ticket_a.id, f"{token(li)} question {n}")
    return [n.id for n in notifications_of(li.id)]


def test_list_is_newest_first_in_pages_and_filters_unread(world, colleagues, login_as):
    li = colleagues[0]
    ids = _three_mentions(world, li, login_as)
    api = login_as(li)
    first = api.get("/api/v1/notifications?limit=2").json
    assert [n["id"] for n in first["items"]] == [ids[2], ids[1]]
    assert first["items"][0]["ticket"] == {"id": world.ticket_a.id, "number": world.ticket_a.number}
    assert first["items"][0]["actor"] == {"id": world.agent_a.id, "name": world.agent_a.name}
    second = api.get(f"/api/v1/notifications?limit=2&cursor={first['next_cursor']}").json
    assert [n["id"] for n in second["items"]] == [ids[0]] and second["next_cursor"] is None
    assert api.post("/api/v1/notifications/read", json={"ids": [ids[1]]}).status_code == 200
    unread = api.get("/api/v1/notifications?unread=true").json
    assert [n["id"] for n in unread["items"]] == [ids[2], ids[0]]
    # Someone else's list does not show them.
    assert login_as(world.agent_a).get("/api/v1/notifications").json["items"] == []


def test_marking_read_lowers_the_count_and_tells_my_other_tabs(world, colleagues, login_as):
    li = colleagues[0]
    ids = _three_mentions(world, li, login_as)
    api = login_as(li)
    r = api.post("/api/v1/notifications/read", json={"ids": [ids[0]]})
    assert r.json == {"marked": 1, "unread_count": 2}
    [event] = events("notification.read")
    assert event.rooms == [f"agent:{li.id}"] and event.payload["unread_count"] == 2 and event.payload["ids"] == [ids[0]]
    assert api.get("/api/v1/notifications/unread-count").json == {"unread_count": 2}
    r = api.post("/api/v1/notifications/read", json={"up_to_id": ids[2]})
    assert r.json == {"marked": 2, "unread_count": 0}
    assert events("notification.read")[-1].payload == {"marked": 2, "unread_count": 0, "up_to_id": ids[2]}
    # Nothing left to mark: no change, no event.
    assert api.post("/api/v1/notifications/read", json={"up_to_id": ids[2]}).json == {"marked": 0, "unread_count": 0}
    assert len(events("notification.read")) == 2


def test_nobody_marks_another_agents_notifications(world, colleagues, login_as):
    li = colleagues[0]
    ids = _three_mentions(world, li, login_as)
    other = login_as(colleagues[1])
    assert other.post("/api/v1/notifications/read", json={"ids": ids}).json == {"marked": 0, "unread_count": 0}
    assert login_as(li).get("/api/v1/notifications/unread-count").json == {"unread_count": 3}


def test_mark_read_needs_exactly_one_of_ids_and_up_to_id(world, login_as):
    api = login_as(world.agent_a)
    assert api.post("/api/v1/notifications/read", json={}).status_code == 422
    assert api.post("/api/v1/notifications/read", json={"ids": [1], "up_to_id": 5}).status_code == 422


def test_strangers_get_401_on_every_collaboration_endpoint(client, world):
    for method, url in [
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/notifications/unread-count"),
        ("POST", "/api/v1/notifications/read"),
        ("GET", f"/api/v1/tickets/{world.ticket_a.id}/invitations"),
        ("POST", f"/api/v1/tickets/{world.ticket_a.id}/invitations"),
        ("DELETE", f"/api/v1/tickets/{world.ticket_a.id}/invitations/1"),
        ("GET", f"/api/v1/tickets/{world.ticket_a.id}/timeline"),
    ]:
        assert client.open(url, method=method, json={}).status_code == 401, (method, url)
