"""why a notification escalates (unacknowledged or overdue)

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before this revision escalated for lack of acknowledgement only; NULL reads
    # as that.
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("escalate_cause", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("escalate_cause")
