"""Call-backs: outbound calls an agent places through the hotline (issue 3, the hotline)

call_records.status gains 'dialing' (requested, the provider not yet ringing anyone) and 'failed'
(the provider refused or could not place it); call_records.error: why, in the provider's words.
The status column is VARCHAR + CHECK, so the CHECK is replaced (batch mode recreates the table
on SQLite).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD = ('ringing', 'in_ivr', 'queued', 'answered', 'completed', 'missed', 'voicemail')
NEW = ('dialing', *OLD, 'failed')


def _status(values):
    return sa.Enum(*values, name='callstatus', native_enum=False, create_constraint=True, length=16)


def upgrade():
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error', sa.String(length=500), nullable=True))
        batch_op.alter_column('status', existing_type=_status(OLD), type_=_status(NEW), existing_nullable=False)


def downgrade():
    op.execute("UPDATE call_records SET status = 'missed' WHERE status IN ('dialing', 'failed')")
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_status(NEW), type_=_status(OLD), existing_nullable=False)
        batch_op.drop_column('error')
