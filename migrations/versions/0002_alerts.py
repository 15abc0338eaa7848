"""Alerts delivery layer: severity and T0 history, publications, links, acknowledgements,
roster versions, delivery attempts, channel health; sweep and delivery columns.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_health',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_health')),
    sa.UniqueConstraint('channel_hash', name=op.f('uq_channel_health_channel_hash'))
    )
    op.create_table('roster_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_versions'))
    )
    op.create_table('acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_acknowledgements_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgements'))
    )
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acknowledgements_incident_id'), ['incident_id'], unique=False)

    op.create_table('clock_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_clock_publications_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_publications'))
    )
    with op.batch_alter_table('clock_publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_publications_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_links_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_links'))
    )
    with op.batch_alter_table('incident_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_links_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_severity_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_severity_changes_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_severity_changes'))
    )
    with op.batch_alter_table('incident_severity_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_severity_changes_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_t0_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('old_t0', sa.DateTime(timezone=True), nullable=False),
    sa.Column('old_source', sa.String(length=16), nullable=False),
    sa.Column('new_t0', sa.DateTime(timezone=True), nullable=False),
    sa.Column('new_source', sa.String(length=16), nullable=False),
    sa.Column('old_due', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_t0_changes_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_t0_changes'))
    )
    with op.batch_alter_table('incident_t0_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_t0_changes_incident_id'), ['incident_id'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('permanent', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_delivery_attempts_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_notification_id'), ['notification_id'], unique=False)

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='step', nullable=False))
        batch_op.add_column(sa.Column('level', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('channel_index', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('title', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('escalate_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acked_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_escalate_at'), ['escalate_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notifications_parent_id_notifications'), 'notifications', ['parent_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_parent_id_notifications'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notifications_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_notifications_escalate_at'))
        batch_op.drop_column('parent_id')
        batch_op.drop_column('acked_by')
        batch_op.drop_column('acked_at')
        batch_op.drop_column('escalate_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('title')
        batch_op.drop_column('channel_index')
        batch_op.drop_column('level')
        batch_op.drop_column('kind')

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('started_at')
        batch_op.drop_column('checked_at')

    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_notification_id'))

    op.drop_table('delivery_attempts')
    with op.batch_alter_table('incident_t0_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_t0_changes_incident_id'))

    op.drop_table('incident_t0_changes')
    with op.batch_alter_table('incident_severity_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_severity_changes_incident_id'))

    op.drop_table('incident_severity_changes')
    with op.batch_alter_table('incident_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_links_incident_id'))

    op.drop_table('incident_links')
    with op.batch_alter_table('clock_publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_publications_incident_id'))

    op.drop_table('clock_publications')
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgements_incident_id'))

    op.drop_table('acknowledgements')
    op.drop_table('roster_versions')
    op.drop_table('channel_health')
