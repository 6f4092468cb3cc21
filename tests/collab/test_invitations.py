"""Inviting another department onto a case: access while it stands, audited, and only by the case's holder or above."""

from sqlalchemy import select

from service_hub.casework.models import CaseTask
from service_hub.core.extensions import db
from service_hub.tickets.models import AuditEvent, TicketInvitation
from tests.collab.conftest import events

URL = "/api/v1/tickets/{}/invitations"


def _hold(world):
    world.ticket_a.assignee_id = world.agent_a.id
    db.session.commit()


def _audit(ticket_id):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket_id, AuditEvent.action.like("invitation.%")).order_by(AuditEvent.id)
    ).all()


def test_invitation_grants_access_and_revocation_takes_it_away(world, login_as):
    _hold(world)
    holder, invited = login_as(world.agent_a), login_as(world.agent_b)
    ticket_url = f"/api/v1/tickets/{world.ticket_a.id}"
    assert invited.get(ticket_url).status_code == 404
    r = holder.post(URL.format(world.ticket_a.id), json={"department_id": world.dept_b.id, "note": "Broadband credit needs you"})
    assert r.status_code == 201, r.json
    assert r.json["standing"] is True and r.json["note"] == "Broadband credit needs you"
    assert invited.get(ticket_url).status_code == 200
    assert invited.get(f"{ticket_url}/timeline").status_code == 200
    [created] = events("ticket.invitation.created")
    assert f"department:{world.dept_b.id}" in created.rooms and f"ticket:{world.ticket_a.id}" in created.rooms
    listed = holder.get(URL.format(world.ticket_a.id)).json
    assert [(i["department_id"], i["standing"]) for i in listed] == [(world.dept_b.id, True)]

    assert holder.delete(f"{URL.format(world.ticket_a.id)}/{r.json['id']}").status_code == 204
    assert invited.get(ticket_url).status_code == 404
    assert invited.get(f"{ticket_url}/timeline").status_code == 404
    assert [e.rooms for e in events("ticket.invitation.revoked")] == [created.rooms]
    # Revoking again changes nothing and is not audited twice.
    assert holder.delete(f"{URL.format(world.ticket_a.id)}/{r.json['id']}").status_code == 204
    trail = _audit(world.ticket_a.id)
    assert [(e.action, e.actor_id) for e in trail] == [("invitation.created", world.agent_a.id), ("invitation.revoked", world.agent_a.id)]
    assert trail[0].after["department_id"] == world.dept_b.id and trail[0].after["note"] == "Broadband credit needs you"


def test_only_the_assignee_a_supervisor_or_an_admin_may_invite(world, colleagues, login_as):
    _hold(world)
    body = {"department_id": world.dept_b.id}
    r = login_as(colleagues[0]).post(URL.format(world.ticket_a.id), json=body)  # sees the ticket, does not hold it
    assert r.status_code == 403 and "assignee" in r.json["detail"]
    assert login_as(world.agent_b).post(URL.format(world.ticket_a.id), json=body).status_code == 404  # cannot see it
    r = login_as(world.supervisor_a).post(URL.format(world.ticket_a.id), json=body)
    assert r.status_code == 201
    assert login_as(colleagues[0]).delete(f"{URL.format(world.ticket_a.id)}/{r.json['id']}").status_code == 403
    assert login_as(world.admin).delete(f"{URL.format(world.ticket_a.id)}/{r.json['id']}").status_code == 204
    assert db.session.get(TicketInvitation, r.json["id"]).revoked_at is not None


def test_invitations_that_make_no_sense_are_refused(world, login_as):
    api = login_as(world.admin)
    url = URL.format(world.ticket_a.id)
    assert api.post(url, json={"department_id": world.dept_a.id}).status_code == 422  # its own department
    assert api.post(url, json={"department_id": 987654}).status_code == 422
    assert api.post(url, json={"department_id": world.dept_b.id}).status_code == 201
    again = api.post(url, json={"department_id": world.dept_b.id})
    assert again.status_code == 409 and "already invited" in again.json["detail"]
    assert api.delete(f"{url}/987654").status_code == 404


def test_a_countersign_invitation_is_not_revoked_while_its_task_is_open(world, login_as):
    invitation = TicketInvitation(ticket_id=world.ticket_a.id, department_id=world.dept_b.id, reason="countersign task t1")
    db.session.add_all(
        [invitation, CaseTask(ticket_id=world.ticket_a.id, task_key="t1", function="billing", department_id=world.dept_b.id)]
    )
    db.session.commit()
    r = login_as(world.admin).delete(f"{URL.format(world.ticket_a.id)}/{invitation.id}")
    assert r.status_code == 409 and "countersign task t1" in r.json["detail"]
    assert login_as(world.agent_b).get(f"/api/v1/tickets/{world.ticket_a.id}").status_code == 200
