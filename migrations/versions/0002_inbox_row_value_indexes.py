"""Inbox indexes on the row-value keyset order: (-priority, COALESCE(next_due_at, far future), id).

With every key ascending and no NULLs, a deep page is one index range scan instead of a scan
over every row before it (see service_hub/core/keyset.py).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('new', 'open', 'pending', 'on_hold')"


def _far_future() -> str:
    return "'infinity'::timestamptz" if op.get_bind().dialect.name == "postgresql" else "'9999-12-31 23:59:59.999999'"


def upgrade():
    order = f"(-priority), (coalesce(next_due_at, {_far_future()})), id"
    for name in ("ix_tickets_inbox", "ix_tickets_inbox_active", "ix_tickets_assignee"):
        op.drop_index(name, table_name="tickets")
    op.execute(f"CREATE INDEX ix_tickets_inbox ON tickets (department_id, status, {order})")
    op.execute(f"CREATE INDEX ix_tickets_inbox_active ON tickets (department_id, {order}) WHERE {ACTIVE}")
    op.execute(f"CREATE INDEX ix_tickets_assignee ON tickets (assignee_id, status, {order})")


def downgrade():
    for name in ("ix_tickets_inbox", "ix_tickets_inbox_active", "ix_tickets_assignee"):
        op.drop_index(name, table_name="tickets")
    op.execute("CREATE INDEX ix_tickets_inbox ON tickets (department_id, status, priority DESC, next_due_at, id)")
    op.execute(f"CREATE INDEX ix_tickets_inbox_active ON tickets (department_id, priority DESC, next_due_at, id) WHERE {ACTIVE}")
    op.execute("CREATE INDEX ix_tickets_assignee ON tickets (assignee_id, status, priority DESC, next_due_at, id)")
