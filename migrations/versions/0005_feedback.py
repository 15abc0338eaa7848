"""officer feedback on classifications

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "classification_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name=op.f("fk_classification_feedback_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification_feedback")),
    )
    op.create_index(op.f("ix_classification_feedback_document_id"), "classification_feedback",
                    ["document_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_classification_feedback_document_id"),
                  table_name="classification_feedback")
    op.drop_table("classification_feedback")
