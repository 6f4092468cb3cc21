"""Rendering a canned response for a ticket: each variable, unknown ones kept, no template engine."""

from __future__ import annotations

import pytest


def _render(api, ticket, row):  # type: ignore[no-untyped-def]
    return api.get(f"/api/v1/tickets/{ticket.id}/canned-responses/{row.id}/render")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Dear {{customer.name}},", "Dear Mei Chen,"),
        ("Your number: {{ customer.number }}", "Your number: C-1001"),
        ("Case #{{ticket.number}}", "Case #{number}"),
        ("Re: {{ticket.subject}}", "Re: Roaming charges in Bangkok"),
        ("Regards, {{agent.name}}", "Regards, Ada Lovelace"),
        ("{{department.name}} team", "Front line A team"),
    ],
)
def test_each_variable_is_filled_for_the_ticket(world, login_as, canned, body, expected):
    row = canned("Variables", body=body)
    answer = _render(login_as(world.agent_a), world.ticket_a, row)
    assert answer.status_code == 200, answer.json
    assert answer.json == {
        "id": row.id,
        "ticket_id": world.ticket_a.id,
        "text": expected.format(number=world.ticket_a.number),
        "unknown": [],
        "empty": [],
    }


def test_unknown_variables_stay_visible_and_are_listed(world, login_as, canned):
    row = canned("Mixed", body="Hi {{customer.name}}, {{customer.balance}} {{ order.id }} {{customer.balance}}")
    answer = _render(login_as(world.agent_a), world.ticket_a, row).json
    assert answer["text"] == "Hi Mei Chen, {{customer.balance}} {{ order.id }} {{customer.balance}}"
    assert answer["unknown"] == ["customer.balance", "order.id"]


def test_agent_name_is_the_current_agent_and_empty_values_are_reported(world, login_as, canned):
    world.customer.customer_number = None
    row = canned("Sign-off", body="{{customer.number}}|{{agent.name}}")
    answer = _render(login_as(world.supervisor_a), world.ticket_a, row).json
    assert answer["text"] == f"|{world.supervisor_a.name}"
    assert answer["empty"] == ["customer.number"]


def test_substitution_is_plain_text_in_one_pass(world, login_as, canned):
    # A customer-chosen name that looks like a variable or template code stays as written.
    world.customer.name = "{{agent.name}} {% for x in y %}{{ 7*7 }}"
    row = canned("Greeting", body="Dear {{customer.name}} {{ 7*7 }} {% if 1 %}x{% endif %}")
    answer = _render(login_as(world.agent_a), world.ticket_a, row).json
    assert answer["text"] == "Dear {{agent.name}} {% for x in y %}{{ 7*7 }} {{ 7*7 }} {% if 1 %}x{% endif %}"
    assert answer["unknown"] == []


def test_render_needs_both_the_ticket_and_the_response_visible(world, login_as, canned):
    mine = canned("A only", body="x", department=world.dept_a)
    everyone = canned("Everyone", body="x")
    agent_b = login_as(world.agent_b)
    assert _render(agent_b, world.ticket_a, everyone).status_code == 404  # ticket of another centre
    assert _render(agent_b, world.ticket_b, mine).status_code == 404  # response of another department
    assert _render(agent_b, world.ticket_b, everyone).status_code == 200
