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
  process. The scheduler does not start it.

Exactly one publisher publishes (production): two would deliver every event twice (clients drop
duplicates by seq, but it doubles the traffic). main() first takes a session-level PostgreSQL
advisory lock (PUBLISHER_LOCK_KEY) on a connection of its own and keeps that connection open;
while another process holds the lock it waits as a standby, retrying every LOCK_RETRY_SECONDS.
PostgreSQL releases the lock when the holder's session ends (the process died, or its connection
broke), and a standby takes over. The holder checks its lock connection every LOCK_CHECK_SECONDS
and stops publishing if it broke, until it holds the lock again. The embedded default (SQLite, one
process) takes no lock.

Waking up: on PostgreSQL the lock's connection also LISTENs on NOTIFY_CHANNEL, which the outbox
trigger of migration 0008 notifies when a transaction with new events commits, so the publisher
reads them at once instead of at its next poll; the poll interval stays as the fallback.

Where a publisher starts: at the position the previous holder last saved in Redis (a key per
database, written after each published batch), so events committed while no publisher ran (a
restart, a failover) still go out live; a few may go out twice, and clients drop those by seq. With
no saved position, or one more than MAX_RESUME_BEHIND events back, it starts at the head.

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

import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, or_, select
from sqlalchemy.pool import NullPool

from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.realtime import supervisor_stream
from service_hub.realtime.rooms import event_message

log = logging.getLogger(__name__)

BATCH = 500
EMBEDDED_POLL_SECONDS = 0.2
PRODUCTION_POLL_SECONDS = 0.2
GAP_WAIT_SECONDS = 10.0
MAX_TRACKED_GAP = 1000
# pg_try_advisory_lock key of "the realtime publisher" (any constant bigint no other code uses).
PUBLISHER_LOCK_KEY = 0x5348_0006
LOCK_RETRY_SECONDS = 2.0
LOCK_CHECK_SECONDS = 5.0
MAX_RESUME_BEHIND = 10_000
NOTIFY_CHANNEL = "service_hub_outbox"  # notified by the outbox trigger (migration 0008) at commit

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


class PublisherLock:
    """The single-publisher guard: a session-level advisory lock on a PostgreSQL connection of its own."""

    def __init__(self, database_url: str) -> None:
        # NullPool: the connection is this object's alone; closing it releases the lock.
        name = f"service_hub publisher {os.getpid()}"
        self.engine = sa.create_engine(database_url, poolclass=NullPool, connect_args={"application_name": name})
        self.connection: sa.Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
            held = bool(self.connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": PUBLISHER_LOCK_KEY}))
            if held:
                self.connection.execute(sa.text(f"LISTEN {NOTIFY_CHANNEL}"))
            self.connection.commit()  # a session-level lock outlives the transaction
            return held
        except sa.exc.DBAPIError:
            log.exception("realtime publisher: could not ask for the publisher lock")
            self.release()
            return False

    def acquire(self, sleep: Callable[[float], Any] = time.sleep) -> bool:
        """Block until this process holds the lock; True if it had to wait (it takes over from another)."""
        waited = False
        while not self.try_acquire():
            if not waited:
                log.info("realtime publisher: standby, another publisher holds the lock")
            waited = True
            sleep(LOCK_RETRY_SECONDS)
        log.info("realtime publisher: holds the publisher lock")
        return waited

    def held(self) -> bool:
        """Still held: the session that took it is alive (a session-level lock only goes with it)."""
        if self.connection is None:
            return False
        try:
            self.connection.scalar(sa.text("SELECT 1"))
            self.connection.commit()
            return True
        except sa.exc.DBAPIError:
            self.release()
            return False

    def wait_for_commit(self, timeout: float) -> None:
        """Return when a commit notifies new outbox events, or after timeout."""
        if self.connection is None:
            time.sleep(timeout)
            return
        try:
            raw = self.connection.connection.driver_connection
            for _ in raw.notifies(timeout=timeout, stop_after=1):  # type: ignore[union-attr]
                pass
        except Exception:  # the connection broke: held() notices and takes the lock again
            log.exception("realtime publisher: waiting for a notification failed")
            time.sleep(timeout)

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self.connection.close()
            self.connection = None


class SavedPosition:
    """The last published outbox id, in Redis, so the next holder of the lock resumes there."""

    def __init__(self, redis_url: str, database_url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url)
        url = sa.make_url(database_url)
        self.key = f"service_hub:realtime:publisher_position:{url.host}:{url.port}:{url.database}"

    def load(self) -> int | None:
        raw = self.client.get(self.key)
        return int(raw) if raw is not None else None

    def save(self, last_id: int) -> None:
        self.client.set(self.key, last_id)


def _start_position(publisher: Publisher, position: SavedPosition | None) -> None:
    saved = None
    if position is not None:
        try:
            saved = position.load()
        except Exception:
            log.exception("realtime publisher: could not read the saved position; starting at the head")
    head = publisher.last_id
    if saved is not None and head - MAX_RESUME_BEHIND <= saved < head:
        publisher.last_id = saved
    elif saved is not None and saved < head:
        log.warning("realtime publisher: saved position %s is more than %s events back; starting at the head", saved, MAX_RESUME_BEHIND)


def run(
    app: Flask,
    emit: Emit,
    interval: float,
    sleep: Callable[[float], Any] = time.sleep,
    lock: PublisherLock | None = None,
    position: SavedPosition | None = None,
) -> None:
    """Poll forever; a failed poll is logged and retried, never fatal. With a lock, only while holding it."""
    if lock is not None and not lock.held():
        lock.acquire(sleep)
    with app.app_context():
        publisher = Publisher.from_database_head(emit)
        _start_position(publisher, position)
        db.session.remove()
    log.info("realtime publisher started after outbox id %s", publisher.last_id)
    checked = time.monotonic()
    while True:
        if lock is not None and time.monotonic() - checked >= LOCK_CHECK_SECONDS:
            if not lock.held():
                # Another publisher may hold it now; publishing on would deliver everything twice.
                log.error("realtime publisher: lost the publisher lock (database connection broke); waiting for it")
                lock.acquire(sleep)
            checked = time.monotonic()
        read, before = 0, publisher.last_id
        try:
            with app.app_context():
                read = publisher.poll()
            if position is not None and publisher.last_id != before:
                position.save(publisher.last_id)
        except Exception:
            log.exception("realtime publisher poll failed; retrying")
        if read < BATCH:  # a full batch means more is waiting
            if lock is not None:
                lock.wait_for_commit(interval)
            else:
                sleep(interval)


def start_embedded(app: Flask) -> None:
    """`flask serve`: publish on a background task of this Socket.IO server."""
    from service_hub.core.extensions import socketio

    def emit(name: str, message: dict[str, Any], rooms: list[str]) -> None:
        socketio.emit(name, message, to=rooms)

    stream = supervisor_stream.start_embedded(app, emit)  # issue 6: the supervisor figures, fed by what we publish
    socketio.start_background_task(run, app, stream.observing(emit), EMBEDDED_POLL_SECONDS, socketio.sleep)


def main() -> None:
    from flask_socketio import SocketIO

    from service_hub import create_app

    app = create_app()
    settings = app.config["SERVICE_HUB"]
    redis_url = settings.redis_url
    if not redis_url:
        raise SystemExit("REDIS_URL is not set: in the embedded default `flask serve` publishes in-process.")
    # write-only: emits go to the web processes via Redis
    emitter = SocketIO(message_queue=redis_url, channel=settings.socketio_channel)

    def emit(name: str, message: dict[str, Any], rooms: list[str]) -> None:
        emitter.emit(name, message, to=rooms)

    # The single-publisher guard (module docstring); one process on SQLite is the embedded default's.
    lock = None if settings.uses_sqlite else PublisherLock(settings.database_url)
    if lock is not None:
        lock.acquire()  # a standby waits here, before it starts anything that emits
    stream = supervisor_stream.start_thread(app, emit)  # issue 6: the supervisor figures, fed by what we publish
    run(app, stream.observing(emit), PRODUCTION_POLL_SECONDS, lock=lock, position=SavedPosition(redis_url, settings.database_url))


if __name__ == "__main__":
    main()
