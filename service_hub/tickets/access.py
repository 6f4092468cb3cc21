"""Which tickets a user may see, as SQL: every ticket query goes through visible_tickets_clause().

Access lives in the query, not in the view, so list, search, detail and export cannot disagree.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import joinedload

from service_hub.auth.scope import DepartmentScope, scope_of
from service_hub.core.errors import NotFound
from service_hub.core.extensions import db
from service_hub.customers.models import Customer
from service_hub.org.models import Agent
from service_hub.tickets.models import Ticket, TicketInvitation


def visible_tickets_clause(scope: DepartmentScope) -> ColumnElement[bool]:
    if scope.all_departments:
        return true()
    invited = select(TicketInvitation.ticket_id).where(
        TicketInvitation.department_id.in_(scope.member_department_ids) if scope.member_department_ids else false(),
        TicketInvitation.revoked_at.is_(None),
    )
    return or_(
        Ticket.department_id.in_(scope.visible_department_ids) if scope.visible_department_ids else false(),
        Ticket.assignee_id == scope.agent_id,
        Ticket.id.in_(invited),
    )


def get_visible_ticket(agent: Agent, ticket_id: int) -> Ticket:
    """The ticket if this agent may see it; otherwise 404, never 403, so ids cannot be probed."""
    query = (
        select(Ticket)
        .where(Ticket.id == ticket_id, visible_tickets_clause(scope_of(agent)))
        # The refs a ticket view shows, in the same query; not their collections (identities, memberships).
        .options(
            joinedload(Ticket.customer).lazyload(Customer.identities),
            joinedload(Ticket.department),
            joinedload(Ticket.assignee).lazyload(Agent.memberships),
        )
    )
    ticket = db.session.scalars(query).first()
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} does not exist or is not visible to you.")
    return ticket


def customer_visible_clause(scope: DepartmentScope, customer_id_column: ColumnElement[int]) -> ColumnElement[bool]:
    """A customer is visible with at least one visible ticket, or with none at all (a new contact)."""
    if scope.all_departments:
        return true()
    any_ticket = exists().where(Ticket.customer_id == customer_id_column)
    visible_ticket = exists().where(and_(Ticket.customer_id == customer_id_column, visible_tickets_clause(scope)))
    return or_(visible_ticket, ~any_ticket)
