"""@mentions in internal notes: who is notified, once each, in the note's transaction; who cannot be mentioned."""

from sqlalchemy import func, select

from service_hub.collab.mentions import parse_mentions
from service_hub.collab.models import Notification
from service_hub.core.extensions import db
from service_hub.tickets.models import Message
from tests.collab.conftest import events, note, notifications_of, token
from tests.factories import AgentFactory


def test_token_syntax_takes_names_with_spaces_and_chinese_and_ignores_near_misses():
    text = "Ask @[Li Wei 李伟](agent:12) and @[账务部 Billing](department:7), not @liwei, @[x](agent:0), @[y](team:3) or @[z](agent:12)"
    assert [(t.kind, t.id, t.name) for t in parse_mentions(text)] == [("agent", 12, "Li Wei 李伟"), ("department", 7, "账务部 Billing")]


def test_mentioning_an_agent_notifies_them_once_with_the_unread_count(world, colleagues, login_as):
    li = colleagues[0]
    api = login_as(world.agent_a)
    body = note(api, world.ticket_a.id, f"{token(li)} please check the roaming bill. {token(li)} (again)")
    [notification] = notifications_of(li.id)
    assert notification.kind.value == "mention" and notification.message_id == body["id"]
    assert notification.ticket_id == world.ticket_a.id and notification.actor_id == world.agent_a.id
    assert notification.department_id is None and notification.read_at is None
    [event] = events("notification.created")
    assert event.rooms == [f"agent:{li.id}"]
    assert event.payload["unread_count"] == 1 and event.payload["notification_id"] == notification.id
    assert event.payload["ticket_number"] == world.ticket_a.number
    # A second note counts on from the first.
    note(api, world.ticket_a.id, f"{token(li)} one more thing")
    assert events("notification.created")[-1].payload["unread_count"] == 2
    li_api = login_as(li)
    assert li_api.get("/api/v1/notifications/unread-count").json == {"unread_count": 2}
    assert notifications_of(world.agent_a.id) == []  # the author is not notified


def test_department_mention_fans_out_to_active_members_once_each(world, colleagues, login_as):
    li, zhang = colleagues
    retired = AgentFactory(name="Retired", departments=[world.dept_a], is_active=False)
    api = login_as(world.agent_a)
    note(api, world.ticket_a.id, f"{token(world.dept_a, 'department')} and {token(li)}: who owns roaming refunds?")
    rows = db.session.scalars(select(Notification).order_by(Notification.recipient_id)).all()
    # Li was named and is a member: one row, as named. Zhang through the department. Not the author, not the inactive.
    assert {(n.recipient_id, n.department_id) for n in rows} == {(li.id, None), (zhang.id, world.dept_a.id)}
    assert retired.id not in {n.recipient_id for n in rows}
    assert sorted(e.rooms[0] for e in events("notification.created")) == sorted([f"agent:{li.id}", f"agent:{zhang.id}"])


def test_mentions_without_access_are_refused_and_nothing_is_written(world, colleagues, login_as):
    api = login_as(world.agent_a)
    messages_before = db.session.scalar(select(func.count()).select_from(Message))
    r = api.post(
        f"/api/v1/tickets/{world.ticket_a.id}/messages",
        json={"kind": "note", "body_text": f"{token(colleagues[0])} and {token(world.agent_b)} should see this"},
    )
    assert r.status_code == 422
    assert r.json["type"].endswith("/mention-refused")
    assert any(world.agent_b.name in p and "cannot see" in p for p in r.json["errors"]["body_text"])
    r = api.post(f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "note", "body_text": token(world.dept_b, "department")})
    assert r.status_code == 422 and "invite it first" in r.json["detail"]
    r = api.post(f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "note", "body_text": "@[Ghost](agent:987654)"})
    assert r.status_code == 422 and "does not exist" in r.json["detail"]
    # Nothing of the refused notes was kept, not even after a later successful write.
    note(api, world.ticket_a.id, "plain note")
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages_before + 1
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_an_invited_department_can_be_mentioned(world, login_as):
    admin = login_as(world.admin)
    assert admin.post(f"/api/v1/tickets/{world.ticket_a.id}/invitations", json={"department_id": world.dept_b.id}).status_code == 201
    api = login_as(world.agent_a)
    note(api, world.ticket_a.id, f"{token(world.dept_b, 'department')} can you confirm the broadband credit?")
    [notification] = notifications_of(world.agent_b.id)
    assert notification.department_id == world.dept_b.id


def test_tokens_in_a_reply_to_the_customer_are_not_mentions(world, colleagues, login_as):
    api = login_as(world.agent_a)
    r = api.post(
        f"/api/v1/tickets/{world.ticket_a.id}/messages", json={"kind": "reply", "body_text": f"Dear customer {token(colleagues[0])}"}
    )
    assert r.status_code == 201
    assert notifications_of(colleagues[0].id) == []
