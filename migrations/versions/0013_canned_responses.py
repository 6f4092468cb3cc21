"""Canned responses (issue 7, the case view's reply composer)

canned_responses: reusable replies with {{variables}}, global (department_id NULL) or per
department; a shortcut ("/roaming") is unique per scope, enforced by a unique index on
(coalesce(department_id, 0), shortcut) since NULL departments would otherwise never clash.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'canned_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('shortcut', sa.String(length=41), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=16), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['agents.id'], name=op.f('fk_canned_responses_created_by_id_agents'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_canned_responses_department_id_departments'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_responses')),
    )
    with op.batch_alter_table('canned_responses', schema=None) as batch_op:
        batch_op.create_index('ix_canned_responses_department', ['department_id'], unique=False)
    op.create_index(
        'uq_canned_responses_scope_shortcut',
        'canned_responses',
        [sa.text('coalesce(department_id, 0)'), 'shortcut'],
        unique=True,
    )


def downgrade():
    op.drop_index('uq_canned_responses_scope_shortcut', table_name='canned_responses')
    with op.batch_alter_table('canned_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_canned_responses_department')
    op.drop_table('canned_responses')
