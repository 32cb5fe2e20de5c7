"""the due-query index holds only payments still to be queried

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUE = sa.text("next_query_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_payments_due_query", table_name="payments")
    op.create_index(
        "ix_payments_due_query",
        "payments",
        ["status", "next_query_at"],
        sqlite_where=_DUE,
        postgresql_where=_DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_payments_due_query", table_name="payments")
    op.create_index("ix_payments_due_query", "payments", ["status", "next_query_at"])
