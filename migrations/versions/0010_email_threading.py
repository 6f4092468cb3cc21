"""Email threading and IMAP resume points (issue 3, the email family)

email_message_ids: every Message-ID received or sent on a mailbox account and the ticket it
belongs to, unique per account, so a reply threads by In-Reply-To/References and a bounce finds
the mail it bounces. imap_folder_states: UIDVALIDITY and the last UID taken per account and
folder, so the poller resumes where it stopped and starts over when the server renumbers.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_message_ids',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('outbound', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['channel_accounts.id'], name=op.f('fk_email_message_ids_account_id_channel_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_email_message_ids_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_message_id'], ['messages.id'], name=op.f('fk_email_message_ids_ticket_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_message_ids')),
    sa.UniqueConstraint('account_id', 'message_id', name=op.f('uq_email_message_ids_account_id_message_id'))
    )
    with op.batch_alter_table('email_message_ids', schema=None) as batch_op:
        batch_op.create_index('ix_email_message_ids_ticket', ['ticket_id', 'id'], unique=False)

    op.create_table('imap_folder_states',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('folder', sa.String(length=200), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['channel_accounts.id'], name=op.f('fk_imap_folder_states_account_id_channel_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'folder', name=op.f('pk_imap_folder_states'))
    )


def downgrade():
    op.drop_table('imap_folder_states')
    with op.batch_alter_table('email_message_ids', schema=None) as batch_op:
        batch_op.drop_index('ix_email_message_ids_ticket')

    op.drop_table('email_message_ids')
