"""Who the benchmark logs in as and which requests it sends, chosen from the generated data.

The inbox is the one with the most active tickets (the worst case, never a small department);
the agent is a front-line agent who is a member of it; the deep cursor is the one the API would
hand out after `deep_rows` rows (computed with the app's own query builder and cursor_for).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select, text

INBOX_LIMIT = 25


@dataclass(frozen=True)
class Scenario:
    department_id: int
    department_code: str
    department_tickets: int
    department_active_tickets: int
    agent_id: int
    agent_email: str
    agent_role: str
    token: str
    deep_rows: int
    deep_cursor: str
    deep_cursor_values: list[Any]
    detail_ids: list[int]

    def inbox_path(self, cursor: str | None = None) -> str:
        params: dict[str, Any] = {"department_id": self.department_id, "status": "active", "sort": "priority", "limit": INBOX_LIMIT}
        if cursor:
            params["cursor"] = cursor
        return "/api/v1/tickets?" + urlencode(params)

    def deep_path(self) -> str:
        return self.inbox_path(self.deep_cursor)

    def public(self) -> dict[str, Any]:
        """Everything but the secret and the id list, for result files."""
        data = asdict(self)
        data.pop("token")
        data["detail_ids"] = f"{len(self.detail_ids)} random ids of tickets visible to the agent"
        return data


def _largest_inbox() -> tuple[int, str, int, int]:
    from service_hub.core.extensions import db

    row = db.session.execute(
        text(
            """
            SELECT d.id, d.code, count(*) AS total,
                   count(*) FILTER (WHERE t.status IN ('new', 'open', 'pending', 'on_hold')) AS active
            FROM tickets t JOIN departments d ON d.id = t.department_id
            GROUP BY d.id, d.code ORDER BY active DESC, d.id LIMIT 1
            """
        )
    ).one()
    return int(row.id), str(row.code), int(row.total), int(row.active)


def member_agent(department_id: int) -> Any:
    from service_hub.core.extensions import db
    from service_hub.org.models import Agent, DepartmentMembership, Role

    return db.session.scalars(
        select(Agent)
        .join(DepartmentMembership, DepartmentMembership.agent_id == Agent.id)
        .where(DepartmentMembership.department_id == department_id, Agent.role == Role.AGENT, Agent.is_active)
        .order_by(Agent.id)
        .limit(1)
    ).one()


def cursor_at(agent: Any, department_id: int, deep_rows: int) -> tuple[str, list[Any]]:
    """The cursor of the last row of page deep_rows / 25: what following next_cursor would return."""
    from service_hub.auth.scope import compute_scope
    from service_hub.core.extensions import db
    from service_hub.core.keyset import cursor_for, decode_cursor, seek
    from service_hub.tickets.inbox import build_query

    args = {"department_id": department_id, "status": ["active"], "sort": "priority"}
    query, keys = build_query(compute_scope(agent), agent.id, args)
    row = db.session.scalars(seek(query, keys, None).offset(deep_rows - 1).limit(1)).one()
    cursor = cursor_for(row, keys)
    values = [v.isoformat() if hasattr(v, "isoformat") else v for v in decode_cursor(cursor, keys)]
    return cursor, values


def _visible_ticket_ids(agent: Any, count: int, seed: float) -> list[int]:
    """Random tickets (any status) the agent may open: those of the departments in its scope."""
    from service_hub.auth.scope import compute_scope
    from service_hub.core.extensions import db

    scope = compute_scope(agent)
    db.session.execute(text("SELECT setseed(:seed)"), {"seed": seed})
    rows = db.session.execute(
        text("SELECT id FROM tickets WHERE department_id = ANY(:ids) ORDER BY random() LIMIT :n"),
        {"ids": sorted(scope.visible_department_ids), "n": count},
    ).scalars()
    return [int(i) for i in rows]


def prepare(deep_rows: int = 10_000, detail_samples: int = 2_000, seed: float = 0.7, token_name: str = "bench") -> Scenario:
    """Pick the inbox, the agent, a read-only API token, the deep cursor and the detail ids (in an app context)."""
    from service_hub.auth.operations import create_token
    from service_hub.core.extensions import db

    department_id, code, total, active = _largest_inbox()
    agent = member_agent(department_id)
    cursor, values = cursor_at(agent, department_id, deep_rows)
    detail_ids = _visible_ticket_ids(agent, detail_samples, seed)
    _token, secret = create_token(agent, token_name, ["tickets:read"], expires_in_days=2)  # commits
    scenario = Scenario(
        department_id=department_id,
        department_code=code,
        department_tickets=total,
        department_active_tickets=active,
        agent_id=agent.id,
        agent_email=agent.email,
        agent_role=agent.role.value,
        token=secret,
        deep_rows=deep_rows,
        deep_cursor=cursor,
        deep_cursor_values=values,
        detail_ids=detail_ids,
    )
    db.session.remove()
    return scenario
