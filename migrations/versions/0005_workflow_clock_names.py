"""Workflow clock names (acknowledge, task@investigation.billing.1) need a longer kind.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sla_clocks") as batch_op:
        batch_op.alter_column("kind", type_=sa.String(64), existing_type=sa.String(24), existing_nullable=False)


def downgrade():
    with op.batch_alter_table("sla_clocks") as batch_op:
        batch_op.alter_column("kind", type_=sa.String(24), existing_type=sa.String(64), existing_nullable=False)
