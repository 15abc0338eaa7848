"""one classification per document, enforced by a unique index

Two schedulers on one database could classify a document twice; the newest classification of
each document is kept (the one the analysis acted on last), the others are removed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM classifications WHERE id NOT IN "
               "(SELECT MAX(id) FROM classifications GROUP BY document_id)")
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classifications_document_id"))
        batch_op.create_index(batch_op.f("ix_classifications_document_id"), ["document_id"],
                              unique=True)


def downgrade() -> None:
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classifications_document_id"))
        batch_op.create_index(batch_op.f("ix_classifications_document_id"), ["document_id"],
                              unique=False)
