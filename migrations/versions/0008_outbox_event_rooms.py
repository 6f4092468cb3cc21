"""Outbox rooms in a side table, one row per (event, room), so catch-up asks the database for a
room's events by index instead of reading every event and filtering in Python

Rows are written by a trigger on outbox_events, in the inserting transaction: record_event(), the
escalation job's bulk insert and any other writer are covered without knowing of the table.
PostgreSQL: one statement-level trigger with a transition table (a bulk insert of 10,000 events
is one set-based INSERT), which also notifies the channel service_hub_outbox so the realtime
publisher wakes at commit instead of at its next poll. SQLite: a row trigger with json_each. Events are never updated, so there
is no UPDATE trigger; pruning an event deletes its rows (ON DELETE CASCADE).

Caution for later migrations: on SQLite a batch_alter_table of outbox_events recreates the table
and drops this trigger; create it again there (see _SQLITE_TRIGGER).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION outbox_events_index_rooms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox_event_rooms (event_id, room)
    SELECT DISTINCT n.id, r.room
    FROM new_events AS n CROSS JOIN LATERAL jsonb_array_elements_text(n.rooms) AS r(room)
    WHERE jsonb_typeof(n.rooms) = 'array';
    -- Wakes the realtime publisher (it LISTENs) when this transaction commits.
    PERFORM pg_notify('service_hub_outbox', '');
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER outbox_events_index_rooms AFTER INSERT ON outbox_events
REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_index_rooms()
"""
_PG_BACKFILL = """
INSERT INTO outbox_event_rooms (event_id, room)
SELECT DISTINCT e.id, r.room
FROM outbox_events AS e CROSS JOIN LATERAL jsonb_array_elements_text(e.rooms) AS r(room)
WHERE jsonb_typeof(e.rooms) = 'array'
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER outbox_events_index_rooms AFTER INSERT ON outbox_events
WHEN json_type(NEW.rooms) = 'array'
BEGIN
    INSERT OR IGNORE INTO outbox_event_rooms (event_id, room) SELECT NEW.id, value FROM json_each(NEW.rooms);
END
"""
_SQLITE_BACKFILL = """
INSERT OR IGNORE INTO outbox_event_rooms (event_id, room)
SELECT e.id, j.value FROM outbox_events AS e, json_each(e.rooms) AS j WHERE json_type(e.rooms) = 'array'
"""


def upgrade():
    op.create_table(
        "outbox_event_rooms",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("room", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["outbox_events.id"], name=op.f("fk_outbox_event_rooms_event_id_outbox_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "room", name=op.f("pk_outbox_event_rooms")),
    )
    with op.batch_alter_table("outbox_event_rooms", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_event_rooms_room", ["room", "event_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
        op.execute(_PG_BACKFILL)
    else:
        op.execute(_SQLITE_TRIGGER)
        op.execute(_SQLITE_BACKFILL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_events_index_rooms ON outbox_events")
        op.execute("DROP FUNCTION IF EXISTS outbox_events_index_rooms()")
    else:
        op.execute("DROP TRIGGER IF EXISTS outbox_events_index_rooms")
    with op.batch_alter_table("outbox_event_rooms", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_event_rooms_room")
    op.drop_table("outbox_event_rooms")
