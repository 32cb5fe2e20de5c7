"""a reconciliation resolution names the payment it settled or refunded and the refund it sent

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reconciliation_resolutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("refund_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reconciliation_resolutions", schema=None) as batch_op:
        batch_op.drop_column("refund_id")
        batch_op.drop_column("payment_id")
