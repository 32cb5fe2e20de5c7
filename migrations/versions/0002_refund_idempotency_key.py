"""refund idempotency key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:09:58.743568
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_refunds_payment_id"), ["payment_id", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_refunds_payment_id"), type_="unique")
        batch_op.drop_column("idempotency_key")
