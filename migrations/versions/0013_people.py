"""one person record (people replaces users); incidents' owning section and closing

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("section", sa.String(length=64), nullable=True),
        sa.Column("heads_section", sa.Boolean(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("name", name=op.f("uq_people_name")),
    )
    # Every login user becomes a person with their one role and their password hash.
    roles = ("json_build_array(role)" if op.get_bind().dialect.name == "postgresql"
             else "'[\"' || role || '\"]'")
    op.execute(f"INSERT INTO people (name, display_name, roles, section, heads_section, channels, "
               f"password_hash, active, created_at, updated_at) SELECT name, name, {roles}, NULL, "
               f"false, '[]', password_hash, active, created_at, created_at FROM users")
    op.drop_table("users")
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("owning_section", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("close_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    columns = ("close_reason", "closed_by", "closed_at", "owning_section")
    if op.get_bind().dialect.name == "sqlite":
        # Natively (SQLite 3.35+): a batch copy would drop and recreate ``incidents``, which
        # the rows referencing it (responses, deadlines) forbid while foreign keys are on.
        for column in columns:
            op.execute(f"ALTER TABLE incidents DROP COLUMN {column}")
    else:
        with op.batch_alter_table("incidents") as batch:
            for column in columns:
                batch.drop_column(column)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    # Only people with a login were users; their first role is kept.
    first = ("roles->>0" if op.get_bind().dialect.name == "postgresql"
             else "json_extract(roles, '$[0]')")
    op.execute(f"INSERT INTO users (name, role, password_hash, active, created_at) SELECT name, "
               f"COALESCE({first}, 'duty_officer'), password_hash, active, created_at FROM people "
               f"WHERE password_hash IS NOT NULL")
    op.drop_table("people")

