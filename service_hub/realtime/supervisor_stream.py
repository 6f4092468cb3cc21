"""The supervisor stream: each centre's queue figures, pushed when they change, at most once a second.

A supervisor's browser sends `supervisor_subscribe` {} and gets, in the ack, the current snapshot
of every centre it may see ({ok, snapshots: [...]}); from then on `supervisor.snapshot` messages
arrive whenever that centre's figures change. Nothing polls.

Where they go: room "department:<centre id>", not the shared "supervisors" room. A supervisor sees
only their own centre (auth.scope), so one snapshot of every centre to every supervisor would leak
the others'. The centre's department room already has exactly the right access rule
(rooms.check_room: the centre is in the agent's scope), is re-checked by the revalidator when
someone moves, and is rejoined by `resume`. Whoever may join it (supervisors of that centre,
admins, an agent placed in the centre itself) sees every ticket of the centre anyway.
`supervisor_subscribe` itself is for supervisors and admins only; admins join every centre.

How it is driven: the realtime publisher hands every outbox event it emits to `observe` (see
publisher.start_embedded and publisher.main); events that move queue figures (tickets created,
assigned, transferred or changed, SLA warnings and breaches, agent presence) mark their
departments' centres dirty. One loop beside the publisher (one publisher, so one loop) computes
the dirty centres' snapshots with a few aggregate queries, at most once per MIN_INTERVAL per
centre, and emits only those whose figures differ from the last ones sent. Waits and due times
travel as timestamps, not ages, so the figures of a quiet centre do not change with the clock;
the browser counts the seconds. Every REFRESH_SECONDS all centres are recomputed anyway, for
changes that write no event (an admin editing an agent's capacity).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from flask import Flask
from flask_socketio import join_room
from sqlalchemy import and_, func, select

from service_hub.casework.models import SlaClock
from service_hub.casework.queue_reads import waiting_clause
from service_hub.core.extensions import db, socketio
from service_hub.core.types import utcnow
from service_hub.org.models import Agent, Department, DepartmentMembership, Presence, Role
from service_hub.org.tree import DepartmentTree
from service_hub.realtime import rooms
from service_hub.tickets.models import ACTIVE_STATUSES, Ticket

log = logging.getLogger(__name__)

MIN_INTERVAL = 1.0
TICK_SECONDS = 0.1
REFRESH_SECONDS = 30.0
NEAREST_CLOCKS = 10
EVENT_NAME = "supervisor.snapshot"
AFFECTING = frozenset(
    {
        "ticket.created",
        "ticket.assigned",
        "ticket.transferred",
        "ticket.updated",
        "case.step",
        "agent.presence",
        "sla.warning",
        "sla.breached",
    }
)

Emit = Callable[[str, dict[str, Any], list[str]], None]
EVERYTHING = -1  # a dirty mark for "every centre"


def centre_room(centre_id: int) -> str:
    return f"department:{centre_id}"


# The figures


def snapshots(centre_ids: Collection[int] | None = None) -> dict[int, dict[str, Any]]:
    """Each centre's figures (all centres when None): four queries however many centres and agents."""
    tree = DepartmentTree.load()
    centre_of = {d: tree.centre_of(d) or d for d, node in tree.nodes.items() if node.is_active}
    wanted = set(centre_of.values()) if centre_ids is None else set(centre_ids) & set(centre_of.values())
    departments = sorted(d for d, c in centre_of.items() if c in wanted)
    if not departments:
        return {}
    names = dict(db.session.execute(select(Department.id, Department.name).where(Department.id.in_(departments))).all())

    waiting = {
        row.department_id: row
        for row in db.session.execute(
            select(Ticket.department_id, func.count().label("waiting"), func.min(Ticket.created_at).label("oldest"))
            .where(waiting_clause(departments))
            .group_by(Ticket.department_id)
        )
    }

    members = select(DepartmentMembership.agent_id).where(DepartmentMembership.department_id.in_(departments))
    loads = (
        select(Ticket.assignee_id, func.count().label("load"))
        .where(Ticket.assignee_id.in_(members), Ticket.status.in_(ACTIVE_STATUSES))
        .group_by(Ticket.assignee_id)
        .subquery()
    )
    agent_rows = db.session.execute(
        select(Agent.id, Agent.name, Agent.presence, Agent.capacity, DepartmentMembership.department_id, func.coalesce(loads.c.load, 0))
        .join(DepartmentMembership, DepartmentMembership.agent_id == Agent.id)
        .outerjoin(loads, loads.c.assignee_id == Agent.id)
        .where(DepartmentMembership.department_id.in_(departments), Agent.is_active.is_(True))
        .order_by(Agent.name, Agent.id)
    ).all()

    # Clocks past their warning and not yet breached, the nearest NEAREST_CLOCKS of each department.
    rank = func.row_number().over(partition_by=Ticket.department_id, order_by=(SlaClock.due_at, SlaClock.id)).label("rank")
    per_department = func.count().over(partition_by=Ticket.department_id).label("nearing")
    nearing_q = (
        select(Ticket.department_id, Ticket.id.label("ticket_id"), Ticket.number, SlaClock.kind, SlaClock.due_at, rank, per_department)
        .join(SlaClock, SlaClock.ticket_id == Ticket.id)
        .where(
            Ticket.department_id.in_(departments),
            Ticket.status.in_(ACTIVE_STATUSES),
            and_(SlaClock.status == "running", SlaClock.warned_at.is_not(None), SlaClock.breached_at.is_(None)),
        )
        .subquery()
    )
    nearing_rows = db.session.execute(select(nearing_q).where(nearing_q.c.rank <= NEAREST_CLOCKS)).all()

    result: dict[int, dict[str, Any]] = {}
    for centre_id in sorted(wanted):
        result[centre_id] = {
            "centre_id": centre_id,
            "name": names.get(centre_id, ""),
            "departments": [],
            "agents": [],
            "nearing_breach": [],
        }
    per_dept: dict[int, dict[str, Any]] = {}
    for department_id in departments:
        row = waiting.get(department_id)
        figures = {
            "department_id": department_id,
            "name": names.get(department_id, ""),
            "waiting": int(row.waiting) if row else 0,
            "oldest_waiting_since": row.oldest.isoformat() if row else None,
            "agents": {p.value: 0 for p in Presence},
            "nearing_breach": 0,
        }
        per_dept[department_id] = figures
        result[centre_of[department_id]]["departments"].append(figures)
    agents: dict[tuple[int, int], dict[str, Any]] = {}
    for agent_id, name, presence, capacity, department_id, load in agent_rows:
        per_dept[department_id]["agents"][presence.value] += 1
        centre_id = centre_of[department_id]
        key = (centre_id, agent_id)
        if key not in agents:
            agents[key] = {"agent_id": agent_id, "name": name, "presence": presence.value, "load": int(load), "capacity": capacity}
            agents[key]["department_ids"] = []
            result[centre_id]["agents"].append(agents[key])
        agents[key]["department_ids"].append(department_id)
    for row in nearing_rows:
        per_dept[row.department_id]["nearing_breach"] = int(row.nearing)
        clock = {"ticket_id": row.ticket_id, "number": row.number, "department_id": row.department_id, "clock": row.kind}
        result[centre_of[row.department_id]]["nearing_breach"].append(clock | {"due_at": row.due_at})
    for snapshot in result.values():
        nearest = sorted(snapshot["nearing_breach"], key=lambda c: (c["due_at"], c["ticket_id"]))[:NEAREST_CLOCKS]
        snapshot["nearing_breach"] = [c | {"due_at": c["due_at"].isoformat()} for c in nearest]
        depts = snapshot["departments"]
        oldest = [d["oldest_waiting_since"] for d in depts if d["oldest_waiting_since"]]
        snapshot["totals"] = {
            "waiting": sum(d["waiting"] for d in depts),
            "oldest_waiting_since": min(oldest) if oldest else None,
            "nearing_breach": sum(d["nearing_breach"] for d in depts),
            "agents": {p.value: sum(1 for a in snapshot["agents"] if a["presence"] == p.value) for p in Presence},
        }
    return result


# The loop


class SupervisorStream:
    def __init__(self, emit: Emit, min_interval: float = MIN_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.emit = emit
        self.min_interval = min_interval
        self.clock = clock
        self._marked: set[int] = set()  # department ids (or EVERYTHING) marked since the last tick
        self._lock = threading.Lock()
        self.pending: set[int] = set()  # centres with a change not yet sent
        self.sent_at: dict[int, float] = {}
        self.sent: dict[int, dict[str, Any]] = {}
        self.refreshed_at = clock()

    def observe(self, name: str, message: dict[str, Any], rooms_: list[str]) -> None:
        """Called with each message the publisher emits; marks what an event may have changed."""
        if name != "event" or message.get("type") not in AFFECTING:
            return
        departments = {int(r.partition(":")[2]) for r in rooms_ if r.startswith("department:") and r.partition(":")[2].isdigit()}
        with self._lock:
            self._marked |= departments or {EVERYTHING}

    def observing(self, emit: Emit) -> Emit:
        """The publisher's emit, observed on the way."""

        def observed(name: str, message: dict[str, Any], rooms_: list[str]) -> None:
            emit(name, message, rooms_)
            try:
                self.observe(name, message, rooms_)
            except Exception:  # the stream must never cost the publisher an event
                log.exception("supervisor stream could not observe an event")

        return observed

    def tick(self) -> int:
        """Send the snapshots that are due and changed; returns how many were sent. Needs an app context."""
        now = self.clock()
        with self._lock:
            marked, self._marked = self._marked, set()
        if now - self.refreshed_at >= REFRESH_SECONDS:
            marked.add(EVERYTHING)
            self.refreshed_at = now
        if marked:
            tree = DepartmentTree.load()
            if EVERYTHING in marked:
                self.pending |= {tree.centre_of(d) or d for d in tree.nodes}
            else:
                self.pending |= {c for c in (tree.centre_of(d) for d in marked) if c is not None}
        due = {c for c in self.pending if now - self.sent_at.get(c, float("-inf")) >= self.min_interval}
        if not due:
            return 0
        figures = snapshots(due)
        sent = 0
        for centre_id in sorted(due):
            self.pending.discard(centre_id)
            snapshot = figures.get(centre_id)
            if snapshot is None or snapshot == self.sent.get(centre_id):
                continue
            self.emit(EVENT_NAME, snapshot | {"at": utcnow().isoformat()}, [centre_room(centre_id)])
            self.sent[centre_id], self.sent_at[centre_id] = snapshot, now
            sent += 1
        return sent


def run(app: Flask, stream: SupervisorStream, sleep: Callable[[float], Any] = time.sleep) -> None:
    """Tick forever; a failed tick is logged and retried, never fatal."""
    log.info("supervisor stream started")
    while True:
        try:
            with app.app_context():
                try:
                    stream.tick()
                finally:
                    db.session.remove()
        except Exception:
            log.exception("supervisor stream tick failed; retrying")
        sleep(TICK_SECONDS)


def start_embedded(app: Flask, emit: Emit) -> SupervisorStream:
    """Beside the publisher of `flask serve`: a Socket.IO background task."""
    stream = SupervisorStream(emit)
    socketio.start_background_task(run, app, stream, socketio.sleep)
    return stream


def start_thread(app: Flask, emit: Emit) -> SupervisorStream:
    """Beside the publisher process of production: a daemon thread emitting through the message queue."""
    stream = SupervisorStream(emit)
    threading.Thread(target=run, args=(app, stream), name="supervisor-stream", daemon=True).start()
    return stream


# Subscribing


@socketio.on("supervisor_subscribe")
def on_supervisor_subscribe(data: Any = None) -> dict[str, Any]:
    agent, scopes = rooms._current()
    if agent is None:
        return rooms.Refusal("unauthenticated", "your account is no longer active").as_ack()
    if agent.role not in (Role.SUPERVISOR, Role.ADMIN):
        return rooms.Refusal("forbidden", "supervisors only").as_ack()
    if "tickets:read" not in scopes:
        return rooms.Refusal("forbidden", "this token lacks the tickets:read scope").as_ack()
    tree = DepartmentTree.load()
    centres = {tree.centre_of(d) or d for d in (tree.nodes if agent.role == Role.ADMIN else agent.department_ids)}
    centres = {c for c in centres if rooms.check_room(agent, scopes, centre_room(c)) is None}
    for centre_id in sorted(centres):
        join_room(centre_room(centre_id))  # join first: a change after this arrives live
    current = snapshots(centres)
    return {"ok": True, "snapshots": [current[c] | {"at": utcnow().isoformat()} for c in sorted(current)]}
