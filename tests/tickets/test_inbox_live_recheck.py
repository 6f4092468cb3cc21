"""The live inbox re-checks changed rows: ?id= narrows the list to those tickets, still under every
other filter and the caller's access, so a row missing from the answer no longer belongs in the view."""

from service_hub.tickets.models import Priority, TicketStatus
from tests.factories import TicketFactory


def _ids(api, query):
    response = api.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 200, response.json
    return [t["id"] for t in response.json["items"]]


def test_id_filter_keeps_the_other_filters_and_the_sort(world, login_as):
    urgent = TicketFactory(department=world.dept_a, priority=Priority.URGENT)
    solved = TicketFactory(department=world.dept_a, status=TicketStatus.SOLVED)
    mine = TicketFactory(department=world.dept_a, assignee=world.agent_a, priority=Priority.HIGH)
    TicketFactory(department=world.dept_a)  # not asked for
    api = login_as(world.agent_a)
    asked = f"id={world.ticket_a.id}&id={urgent.id}&id={solved.id}&id={mine.id}"
    assert _ids(api, asked) == [urgent.id, mine.id, world.ticket_a.id, solved.id]
    assert _ids(api, f"{asked}&status=active") == [urgent.id, mine.id, world.ticket_a.id]
    assert _ids(api, f"{asked}&status=active&assignee=none") == [urgent.id, world.ticket_a.id]
    assert _ids(api, f"{asked}&assignee=me") == [mine.id]


def test_id_filter_never_shows_an_invisible_ticket(world, login_as):
    api = login_as(world.agent_a)
    assert _ids(api, f"id={world.ticket_b.id}&id={world.ticket_a.id}") == [world.ticket_a.id]


def test_id_filter_is_bounded_and_typed(world, login_as):
    api = login_as(world.agent_a)
    assert api.get("/api/v1/tickets?id=abc").status_code == 400
    assert api.get("/api/v1/tickets?" + "&".join(f"id={n}" for n in range(1, 102))).status_code == 400
