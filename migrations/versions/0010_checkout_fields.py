"""a payment keeps what its provider's checkout gave: URL (empty until created), QR payload, app link, order id

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("checkout_url", existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column("qr_code", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("deeplink", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("provider_order_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("provider_order_id")
        batch_op.drop_column("deeplink")
        batch_op.drop_column("qr_code")
    op.execute("UPDATE payments SET checkout_url = '' WHERE checkout_url IS NULL")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("checkout_url", existing_type=sa.Text(), nullable=False)
