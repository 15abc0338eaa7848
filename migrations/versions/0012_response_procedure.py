"""responses carry the procedure and the one publication record; clock_publications move in

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02

Each ``clock_publications`` row becomes a published response (``evidence_source`` 'migrated':
no snapshot was ever taken of it) with the same kind, time, URL and recorder, so every clock it
met stays met. Kind ``response`` (回应, 较大) becomes a clarification meeting the response clock.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RESPONSE_KIND = {"statement": "statement", "press_conference": "press_conference",
                  "follow_up": "follow_up", "response": "clarification"}


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("section", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confidential_ok", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("published_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("channels", sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("snapshot", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("evidence_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("evidence_document_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("filing", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_responses_evidence_document_id_documents"),
                                    "documents", ["evidence_document_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_responses_corrects_id_responses"),
                                    "responses", ["corrects_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_responses_published_at"), ["published_at"],
                              unique=False)
    op.create_table(
        "response_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["response_id"], ["responses.id"],
                                name=op.f("fk_response_steps_response_id_responses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_steps")),
    )
    op.create_index(op.f("ix_response_steps_response_id"), "response_steps", ["response_id"],
                    unique=False)
    _move_publications()
    with op.batch_alter_table("clock_publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clock_publications_incident_id"))
    op.drop_table("clock_publications")


def _move_publications() -> None:
    bind = op.get_bind()
    old = sa.table("clock_publications", sa.column("id", sa.Integer()),
                   sa.column("incident_id", sa.Integer()), sa.column("kind", sa.String()),
                   sa.column("published_at", sa.DateTime(timezone=True)),
                   sa.column("url", sa.Text()), sa.column("recorded_by", sa.String()))
    responses = sa.table(
        "responses", sa.column("id", sa.Integer()), sa.column("incident_id", sa.Integer()),
        sa.column("kind", sa.String()), sa.column("clock_kind", sa.String()),
        sa.column("state", sa.String()), sa.column("title", sa.Text()),
        sa.column("body", sa.Text()), sa.column("published_by", sa.String()),
        sa.column("published_at", sa.DateTime(timezone=True)),
        sa.column("published_url", sa.Text()), sa.column("evidence_source", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)))
    steps = sa.table("response_steps", sa.column("response_id", sa.Integer()),
                     sa.column("action", sa.String()), sa.column("from_state", sa.String()),
                     sa.column("to_state", sa.String()), sa.column("actor", sa.String()),
                     sa.column("at", sa.DateTime(timezone=True)),
                     sa.column("comment", sa.Text()))
    rows = bind.execute(sa.select(old).order_by(old.c.id)).mappings().all()
    for row in rows:
        result = bind.execute(sa.insert(responses).values(
            incident_id=row["incident_id"], kind=_RESPONSE_KIND.get(row["kind"], row["kind"]),
            clock_kind=row["kind"], state="published", title="", body="",
            published_by=row["recorded_by"], published_at=row["published_at"],
            published_url=row["url"], evidence_source="migrated",
            created_at=row["published_at"], updated_at=row["published_at"])
            .returning(responses.c.id))
        bind.execute(sa.insert(steps).values(
            response_id=result.scalar_one(), action="publish", from_state=None,
            to_state="published", actor=row["recorded_by"], at=row["published_at"],
            comment="由旧的发布登记迁移 / moved from clock_publications"))


def downgrade() -> None:
    op.create_table(
        "clock_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_clock_publications_incident_id_incidents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clock_publications")),
    )
    with op.batch_alter_table("clock_publications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clock_publications_incident_id"), ["incident_id"],
                              unique=False)
    op.execute("INSERT INTO clock_publications (incident_id, kind, published_at, url, "
               "recorded_by) SELECT incident_id, clock_kind, published_at, published_url, "
               "COALESCE(published_by, 'system') FROM responses WHERE state = 'published' "
               "AND clock_kind IS NOT NULL AND published_at IS NOT NULL")
    op.drop_index(op.f("ix_response_steps_response_id"), table_name="response_steps")
    op.drop_table("response_steps")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_responses_published_at"))
        batch_op.drop_constraint(batch_op.f("fk_responses_corrects_id_responses"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_responses_evidence_document_id_documents"),
                                 type_="foreignkey")
        for name in ("comment", "filing", "corrects_id", "evidence_document_id",
                     "evidence_source", "snapshot", "channels", "published_by", "approved_at",
                     "confidential_ok", "reviewed_at", "submitted_at", "section", "clock_kind"):
            batch_op.drop_column(name)
