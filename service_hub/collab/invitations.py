"""Inviting another department onto a case, and revoking it: its members see the case while it stands.

Who may invite or revoke: an agent who can see the ticket and either holds it (its assignee) or is
a supervisor or an admin (a supervisor sees their whole centre, so this is the case holder's
supervisor). Other agents ask the holder; that keeps widening access a deliberate act of someone
answerable for the case. Access itself is tickets.access: it honours every invitation not revoked.

An invitation the workflow made for a countersign task (会签) is revoked only by closing that task
through the workflow; revoking it here is refused while the task is open.
"""

from __future__ import annotations

from sqlalchemy import select

from service_hub.auth.principal import Principal
from service_hub.casework.models import CaseTask
from service_hub.core.errors import Conflict, Forbidden, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.org.models import Agent, Department, Role
from service_hub.tickets.audit import audit
from service_hub.tickets.models import Ticket, TicketInvitation, TicketStatus


def may_manage(agent: Agent, ticket: Ticket) -> bool:
    """For an agent who can already see the ticket (the caller checked)."""
    return agent.role in (Role.SUPERVISOR, Role.ADMIN) or ticket.assignee_id == agent.id


def _check_may_manage(actor: Principal, ticket: Ticket) -> None:
    if not may_manage(actor.agent, ticket):
        raise Forbidden(f"Only the assignee of ticket #{ticket.number}, a supervisor or an admin may invite or uninvite departments.")


def _rooms(ticket: Ticket, invitation: TicketInvitation) -> list[str]:
    return [f"ticket:{ticket.id}", f"department:{ticket.department_id}", f"department:{invitation.department_id}"]


def list_invitations(ticket: Ticket) -> list[TicketInvitation]:
    return list(db.session.scalars(select(TicketInvitation).where(TicketInvitation.ticket_id == ticket.id).order_by(TicketInvitation.id)))


def invite(actor: Principal, ticket: Ticket, department_id: int, note: str | None) -> TicketInvitation:
    _check_may_manage(actor, ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"Ticket #{ticket.number} is closed; no one new can join it.")
    department = db.session.get(Department, department_id)
    if department is None or not department.is_active:
        raise ValidationProblem("No such active department.", errors={"department_id": ["No such active department."]})
    if department.id == ticket.department_id:
        raise ValidationProblem(
            f"{department.name} already holds ticket #{ticket.number}.", errors={"department_id": ["The ticket's own department."]}
        )
    standing = db.session.scalar(
        select(TicketInvitation.id).where(
            TicketInvitation.ticket_id == ticket.id, TicketInvitation.department_id == department.id, TicketInvitation.revoked_at.is_(None)
        )
    )
    if standing is not None:
        raise Conflict(f"{department.name} is already invited onto ticket #{ticket.number} (invitation {standing}).")
    invitation = TicketInvitation(
        ticket_id=ticket.id,
        department_id=department.id,
        invited_by_id=actor.agent.id,
        reason=(note or "").strip() or None,
        created_at=utcnow(),
    )
    db.session.add(invitation)
    db.session.flush()
    after = {"invitation_id": invitation.id, "department_id": department.id, "department_name": department.name, "note": invitation.reason}
    audit(actor, "invitation.created", ticket_id=ticket.id, after=after)
    record_event("ticket.invitation.created", {"ticket_id": ticket.id, "number": ticket.number, **after}, _rooms(ticket, invitation))
    db.session.commit()
    return invitation


def revoke(actor: Principal, ticket: Ticket, invitation_id: int) -> TicketInvitation:
    """Revoke a standing invitation; revoking one already revoked changes nothing and succeeds."""
    invitation = db.session.scalar(
        select(TicketInvitation).where(TicketInvitation.id == invitation_id, TicketInvitation.ticket_id == ticket.id)
    )
    if invitation is None:
        raise NotFound(f"Ticket #{ticket.number} has no invitation {invitation_id}.")
    _check_may_manage(actor, ticket)
    if invitation.revoked_at is not None:
        return invitation
    open_task = db.session.scalar(
        select(CaseTask.task_key).where(
            CaseTask.ticket_id == ticket.id, CaseTask.department_id == invitation.department_id, CaseTask.status == "open"
        )
    )
    if open_task is not None:
        raise Conflict(
            f"The department still holds countersign task {open_task} of ticket #{ticket.number}; "
            "it leaves the case when the task is done or returned through the workflow."
        )
    invitation.revoked_at = utcnow()
    department = db.session.get(Department, invitation.department_id)
    after = {
        "invitation_id": invitation.id,
        "department_id": invitation.department_id,
        "department_name": department.name if department else None,
    }
    audit(actor, "invitation.revoked", ticket_id=ticket.id, before={"revoked_at": None}, after=after)
    record_event("ticket.invitation.revoked", {"ticket_id": ticket.id, "number": ticket.number, **after}, _rooms(ticket, invitation))
    db.session.commit()
    return invitation
