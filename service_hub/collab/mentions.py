"""@mentions in internal notes: the token syntax, who may be mentioned, and the notifications they make.

The syntax is what the browser's completion inserts when the agent picks a person or a department:

    @[Li Wei](agent:12)      @[账务部 Billing](department:7)

The name is only the label shown in the note (it may hold spaces, Chinese, anything but brackets
and line breaks); the kind and id decide who is meant, so two agents called "Li Wei" are never
confused and a renamed agent is still reached. Typed text like "@liwei" is just text. Only notes
are read for mentions: a reply goes to the customer, and the same characters there mean nothing.

Who may be mentioned (like Zendesk, which lets no one be mentioned who could not open the ticket):
- an active agent who can see the ticket (tickets.access decides, invitations included);
- an active department that works on the case: the ticket's department or one above it, or a
  department with a standing invitation. Its active direct members are notified (not those of
  groups below it: mention the group for them). A department not on the
  case is refused with a hint to invite it first: a mention never widens access by itself.
Anything else refuses the whole note with 422 and says which mention failed, before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from service_hub.auth.principal import Principal
from service_hub.auth.scope import compute_scope
from service_hub.collab import notifications
from service_hub.collab.models import NotificationKind
from service_hub.core.errors import ValidationProblem
from service_hub.core.extensions import db
from service_hub.org.models import Agent, Department
from service_hub.org.tree import DepartmentTree
from service_hub.tickets.access import visible_tickets_clause
from service_hub.tickets.models import Message, Ticket, TicketInvitation

TOKEN = re.compile(r"@\[(?P<name>[^\[\]\r\n]{1,200})\]\((?P<kind>agent|department):(?P<id>[1-9]\d{0,17})\)")
MAX_MENTIONS = 20


@dataclass(frozen=True)
class MentionToken:
    kind: str  # "agent" or "department"
    id: int
    name: str  # the label as written in the note

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name}


@dataclass(frozen=True)
class Mentioned:
    """The checked targets of one note, ready to notify once the note has its id."""

    agent_ids: tuple[int, ...]
    department_ids: tuple[int, ...]


def parse_mentions(text: str) -> list[MentionToken]:
    """The note's mention tokens, each target once, in the order they first appear."""
    seen: dict[tuple[str, int], MentionToken] = {}
    for match in TOKEN.finditer(text or ""):
        key = (match["kind"], int(match["id"]))
        seen.setdefault(key, MentionToken(key[0], key[1], match["name"].strip()))
    return list(seen.values())


def note_text(data: dict[str, Any]) -> str:
    """The text a note's mentions are read from: the plain text if sent, else the HTML's text."""
    return (data.get("body_text") or "").strip() or (data.get("body_html") or "")


def _agent_sees(agent: Agent, ticket: Ticket) -> bool:
    clause = visible_tickets_clause(compute_scope(agent))
    return db.session.scalar(select(Ticket.id).where(Ticket.id == ticket.id, clause)) is not None


def _departments_on_case(ticket: Ticket, department_ids: set[int]) -> set[int]:
    """Of these departments, those that see the ticket: its own or above it, or invited."""
    tree = DepartmentTree.load()
    on_case = {d for d in department_ids if ticket.department_id in tree.subtree(d)}
    invited = db.session.scalars(
        select(TicketInvitation.department_id).where(
            TicketInvitation.ticket_id == ticket.id,
            TicketInvitation.department_id.in_(department_ids),
            TicketInvitation.revoked_at.is_(None),
        )
    )
    return on_case | set(invited)


def resolve_mentions(ticket: Ticket, data: dict[str, Any]) -> Mentioned | None:
    """Check a new note's mentions before anything is written; 422 naming each refused mention."""
    tokens = parse_mentions(note_text(data))
    if not tokens:
        return None
    if len(tokens) > MAX_MENTIONS:
        raise ValidationProblem(
            f"A note may mention at most {MAX_MENTIONS} agents and departments.", errors={"body_text": ["Too many mentions."]}
        )
    problems: list[str] = []
    with db.session.no_autoflush:
        agent_ids = [t.id for t in tokens if t.kind == "agent"]
        agents = {a.id: a for a in db.session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))} if agent_ids else {}
        for token in (t for t in tokens if t.kind == "agent"):
            agent = agents.get(token.id)
            if agent is None or not agent.is_active:
                problems.append(f"@{token.name}: agent {token.id} does not exist or is not active.")
            elif not _agent_sees(agent, ticket):
                problems.append(
                    f"@{token.name}: {agent.name} cannot see ticket #{ticket.number}; only agents with access can be mentioned."
                )
        department_ids = {t.id for t in tokens if t.kind == "department"}
        departments = (
            {d.id: d for d in db.session.scalars(select(Department).where(Department.id.in_(department_ids)))} if department_ids else {}
        )
        on_case = _departments_on_case(ticket, department_ids) if department_ids else set()
        for token in (t for t in tokens if t.kind == "department"):
            department = departments.get(token.id)
            if department is None or not department.is_active:
                problems.append(f"@{token.name}: department {token.id} does not exist or is not active.")
            elif token.id not in on_case:
                problems.append(
                    f"@{token.name}: {department.name} does not work on ticket #{ticket.number}; "
                    f"invite it first (POST /api/v1/tickets/{ticket.id}/invitations), then mention it."
                )
    if problems:
        raise ValidationProblem(" ".join(problems), errors={"body_text": problems}, code="mention-refused", title="Mention refused")
    return Mentioned(tuple(agent_ids), tuple(sorted(department_ids)))


def notify_mentioned(actor: Principal, ticket: Ticket, message: Message, mentioned: Mentioned) -> int:
    """One notification per mentioned person (department members included, the author not); returns how many."""
    return notifications.fan_out(
        NotificationKind.MENTION,
        ticket,
        actor_id=actor.agent.id,
        message_id=message.id,
        agent_ids=mentioned.agent_ids,
        department_ids=mentioned.department_ids,
    )
