"""catch_up() asks the database for a room's events (outbox_event_rooms, written by a trigger)."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent, OutboxEventRoom, prune_outbox, record_event
from service_hub.realtime import rooms as rooms_module
from service_hub.realtime.rooms import MAX_CATCH_UP, catch_up


def _head() -> int:
    return db.session.scalar(select(func.max(OutboxEvent.id))) or 0


def _just_before(head: int) -> int:
    """The seq just before the first event added after head: PostgreSQL does not reuse the ids of
    earlier tests' rolled-back events, and catch-up takes such a gap for pruned events."""
    return int(db.session.scalar(select(func.min(OutboxEvent.id)).where(OutboxEvent.id > head))) - 1


def test_the_trigger_indexes_every_writer_and_catch_up_reads_by_room(app) -> None:  # type: ignore[no-untyped-def]
    head = _head()
    mine = record_event("t", {"n": 1}, ["ticket:1", "department:7", "ticket:1"])  # a repeated room counts once
    other = record_event("t", {"n": 2}, ["ticket:2"])
    db.session.flush()
    # A bulk insert, as the escalation job writes its events, is indexed as well.
    db.session.execute(insert(OutboxEvent), [{"event_type": "sla.warning", "payload": {}, "rooms": ["department:7", "supervisors"]}] * 2)
    empty = record_event("t", {}, [])
    db.session.commit()
    bulk = db.session.scalars(select(OutboxEvent.id).where(OutboxEvent.event_type == "sla.warning", OutboxEvent.id > head)).all()
    head = _just_before(head)

    indexed = db.session.execute(select(OutboxEventRoom.event_id, OutboxEventRoom.room).where(OutboxEventRoom.event_id > head)).all()
    assert sorted(indexed) == sorted(
        [(mine.id, "ticket:1"), (mine.id, "department:7"), (other.id, "ticket:2")]
        + [(b, r) for b in bulk for r in ("department:7", "supervisors")]
    )
    assert empty.id not in {e for e, _ in indexed}

    events, truncated = catch_up(head, {"ticket:1", "department:7", "agent:5"})
    assert [e["seq"] for e in events] == [mine.id, *bulk] and truncated is False  # once each, in seq order
    assert events[0]["data"] == {"n": 1}
    assert catch_up(mine.id, {"ticket:2"}) == ([rooms_module.event_message(other)], False)
    assert catch_up(_head(), {"ticket:1"}) == ([], False)


def test_more_than_the_limit_or_too_far_behind_is_truncated(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    head = _head()
    db.session.execute(insert(OutboxEvent), [{"event_type": "t", "payload": {}, "rooms": ["ticket:9"]}] * (MAX_CATCH_UP + 1))
    db.session.commit()
    head = _just_before(head)
    events, truncated = catch_up(head, {"ticket:9"})
    assert len(events) == MAX_CATCH_UP and truncated is True
    first = db.session.scalars(select(OutboxEvent.id).where(OutboxEvent.id > head).order_by(OutboxEvent.id).limit(MAX_CATCH_UP)).all()
    assert [e["seq"] for e in events] == first

    # Past the span the query looks at, the client reloads even if its rooms were quiet.
    monkeypatch.setattr(rooms_module, "_MAX_SEQ_SPAN", 10)
    assert catch_up(head, {"ticket:404"}) == ([], True)


def test_pruning_an_event_removes_its_rooms(app) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from service_hub.core.types import utcnow

    old = OutboxEvent(event_type="t", payload={}, rooms=["ticket:3"], created_at=utcnow() - timedelta(days=30))
    db.session.add(old)
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(OutboxEventRoom.event_id == old.id)) == 1
    assert prune_outbox() >= 1
    assert db.session.scalar(select(func.count()).where(OutboxEventRoom.event_id == old.id)) == 0
