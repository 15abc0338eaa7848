"""disclosure items of the openness plan and their publications

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disclosure_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=True),
        sa.Column("section", sa.String(length=64), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_items")),
    )
    op.create_table(
        "disclosure_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["disclosure_items.id"],
                                name=op.f("fk_disclosure_publications_item_id_disclosure_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_publications")),
    )
    op.create_index(op.f("ix_disclosure_publications_item_id"), "disclosure_publications",
                    ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_disclosure_publications_item_id"),
                  table_name="disclosure_publications")
    op.drop_table("disclosure_publications")
    op.drop_table("disclosure_items")
