"""The timeline walked from its end, as the case view opens a conversation, and followed live from its tail."""

import pytest

from tests.collab.test_timeline import history  # noqa: F401  (the fixture: one ticket's history with ties)


def _back(api, ticket_id, limit):
    pages, query = [], f"latest=true&limit={limit}"
    while True:
        r = api.get(f"/api/v1/tickets/{ticket_id}/timeline?{query}")
        assert r.status_code == 200, r.json
        assert r.json["next_cursor"] is None
        pages.append(r.json["items"])
        if r.json["prev_cursor"] is None:
            return pages
        query = f"before={r.json['prev_cursor']}&limit={limit}"
        assert len(pages) < 50


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_walking_back_from_the_end_gives_the_same_order_without_skips(world, history, login_as, limit):  # noqa: F811
    api = login_as(world.agent_a)
    pages = _back(api, world.ticket_a.id, limit)
    # Each page is oldest first; the pages come newest first.
    items = [item for page in reversed(pages) for item in page]
    assert [(i["kind"], i["id"]) for i in items] == history
    assert len(pages[0]) == min(limit, len(history))
    assert pages[0][-1]["kind"] == "sla" and pages[0][-1]["event"] == "breached"


def test_the_tail_cursor_asks_only_for_what_came_after(world, history, login_as):  # noqa: F811
    api = login_as(world.agent_a)
    newest = api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?latest=true&limit=3").json
    tail = newest["tail_cursor"]
    after = api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?cursor={tail}").json
    assert after["items"] == [] and after["next_cursor"] is None
    assert after["tail_cursor"] == tail  # nothing new: keep following from the same place
    # An earlier tail sees the rest, in order.
    mid = api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?limit=4").json["tail_cursor"]
    rest = api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?cursor={mid}").json["items"]
    assert [(i["kind"], i["id"]) for i in rest] == history[4:]


def test_one_direction_at_a_time(world, history, login_as):  # noqa: F811
    api = login_as(world.agent_a)
    tail = api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?limit=2").json["tail_cursor"]
    assert api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?latest=true&cursor={tail}").status_code in (400, 422)
    assert api.get(f"/api/v1/tickets/{world.ticket_a.id}/timeline?before=garbage").status_code == 400
