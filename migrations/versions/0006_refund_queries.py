"""refunds are queried on a schedule until their outcome is known

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUE = sa.text("next_query_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_query_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("query_attempts", sa.Integer(), nullable=False, server_default="0"))
    # Refunds left open before this revision are due at once: nothing else would ever settle them.
    op.execute("UPDATE refunds SET next_query_at = updated_at WHERE status IN ('pending', 'processing')")
    op.create_index(
        "ix_refunds_due_query",
        "refunds",
        ["status", "next_query_at"],
        sqlite_where=_DUE,
        postgresql_where=_DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_due_query", table_name="refunds")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("query_attempts")
        batch_op.drop_column("next_query_at")
