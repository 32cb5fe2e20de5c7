"""a refund keeps when it was sent to its provider: ZaloPay's m_refund_id carries that day, and a query rebuilds it

Revision ID: 0013
Revises: 0012
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
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    # A refund sent before this revision was sent when it was last updated, near enough: the best there is.
    op.execute("UPDATE refunds SET sent_at = updated_at WHERE status <> 'pending'")


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("sent_at")
