"""The realtime publisher: outbox rows -> Socket.IO "event" messages to each event's rooms.

One loop reads events with id > the last id it published, in id order, up to BATCH at a time, and
emits each as "event" {seq, type, data, at} to its rooms (a socket in several of them gets it
once). It keeps its position in memory only and starts at the current maximum id: what happened
before it started is served by catch-up (`resume`, see realtime.rooms), which reads the outbox
itself. A crash therefore loses no event a client cannot recover.

Where it runs:
- embedded default: a Socket.IO background task of `flask serve` (start_embedded), polling every
  0.2 s and emitting straight to the sockets of that process;
- production: its own process, `python -m service_hub.realtime.publisher`, emitting through the
  Redis message queue (a write-only flask_socketio.SocketIO(message_queue=REDIS_URL)) to every web
  process. Run exactly one: two would deliver every event twice (clients drop duplicates by seq,
  but it doubles the traffic). The scheduler does not start it.

Caveat, and what we do about it: PostgreSQL hands out ids when a row is inserted, not when its
transaction commits, so id 10 can become visible after id 11. A publisher that only looks past
the highest id would skip 10 forever. So when it sees an id jump (11 after 9) it remembers the
missing ids for GAP_WAIT_SECONDS and re-reads them on each poll; one that commits in that time is
published late (out of seq order; clients apply events by seq and drop seen ones). After that the
id is taken to be a rolled-back insert. A commit slower than GAP_WAIT_SECONDS, or a jump of more
than MAX_TRACKED_GAP ids, is not published live; a client still gets it on its next resume unless
it already resumed past it. SQLite serialises writers, so there ids commit in order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import func, or_, select

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.realtime.rooms import event_message

log = logging.getLogger(__name__)

BATCH = 500
EMBEDDED_POLL_SECONDS = 0.2
PRODUCTION_POLL_SECONDS = 0.2
GAP_WAIT_SECONDS = 10.0
MAX_TRACKED_GAP = 1000

Emit = Callable[[str, dict[str, Any], list[str]], None]


class Publisher:
    def __init__(self, emit: Emit, last_id: int) -> None:
        self.emit = emit
        self.last_id = last_id
        self.gaps: dict[int, float] = {}  # id not seen yet -> monotonic time its gap was noticed

    @classmethod
    def from_database_head(cls, emit: Emit) -> Publisher:
        return cls(emit, db.session.scalar(select(func.max(OutboxEvent.id))) or 0)

    def poll(self) -> int:
        """Publish what is new (and late arrivals in known gaps); returns how many rows were read."""
        now = time.monotonic()
        self.gaps = {i: t for i, t in self.gaps.items() if now - t < GAP_WAIT_SECONDS}
        newer = OutboxEvent.id > self.last_id
        query = select(OutboxEvent).where(or_(newer, OutboxEvent.id.in_(self.gaps)) if self.gaps else newer)
        try:
            events = db.session.scalars(query.order_by(OutboxEvent.id).limit(BATCH)).all()
            for event in events:
                if event.id > self.last_id:
                    if event.id - self.last_id - 1 <= MAX_TRACKED_GAP:
                        self.gaps.update(dict.fromkeys(range(self.last_id + 1, event.id), now))
                    self.last_id = event.id
                elif self.gaps.pop(event.id, None) is None:
                    continue  # cannot happen: read only ids past last_id or in gaps
                if event.rooms:
                    self.emit("event", event_message(event), list(event.rooms))
            return len(events)
        finally:
            db.session.rollback()  # end the read transaction so the next poll sees new commits


def run(app: Flask, emit: Emit, interval: float, sleep: Callable[[float], Any] = time.sleep) -> None:
    """Poll forever; a failed poll is logged and retried, never fatal."""
    with app.app_context():
        publisher = Publisher.from_database_head(emit)
        db.session.remove()
    log.info("realtime publisher started after outbox id %s", publisher.last_id)
    while True:
        read = 0
        try:
            with app.app_context():
                read = publisher.poll()
        except Exception:
            log.exception("realtime publisher poll failed; retrying")
        if read < BATCH:  # a full batch means more is waiting
            sleep(interval)


def start_embedded(app: Flask) -> None:
    """`flask serve`: publish on a background task of this Socket.IO server."""
    from service_hub.core.extensions import socketio

    def emit(name: str, message: dict[str, Any], rooms: list[str]) -> None:
        socketio.emit(name, message, to=rooms)

    socketio.start_background_task(run, app, emit, EMBEDDED_POLL_SECONDS, socketio.sleep)


def main() -> None:
    from flask_socketio import SocketIO

    from service_hub import create_app

    app = create_app()
    redis_url = app.config["SERVICE_HUB"].redis_url
    if not redis_url:
        raise SystemExit("REDIS_URL is not set: in the embedded default `flask serve` publishes in-process.")
    emitter = SocketIO(message_queue=redis_url)  # write-only: emits go to the web processes via Redis

    def emit(name: str, message: dict[str, Any], rooms: list[str]) -> None:
        emitter.emit(name, message, to=rooms)

    run(app, emit, PRODUCTION_POLL_SECONDS)


if __name__ == "__main__":
    main()
