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
_COLUMNS = ["status", "next_query_at"]


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        # Built beside the old index and swapped in: a plain CREATE INDEX would hold off every IPN and
        # creation (they write payments) until a table of every payment ever made had been read.
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_payments_due_query_open",
                "payments",
                _COLUMNS,
                postgresql_where=_DUE,
                postgresql_concurrently=True,
            )
            op.drop_index("ix_payments_due_query", table_name="payments", postgresql_concurrently=True)
            op.execute("ALTER INDEX ix_payments_due_query_open RENAME TO ix_payments_due_query")
    else:
        op.drop_index("ix_payments_due_query", table_name="payments")
        op.create_index("ix_payments_due_query", "payments", _COLUMNS, sqlite_where=_DUE)


def downgrade() -> None:
    op.drop_index("ix_payments_due_query", table_name="payments")
    op.create_index("ix_payments_due_query", "payments", _COLUMNS)
