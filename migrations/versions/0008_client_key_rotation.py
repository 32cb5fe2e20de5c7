"""a client's previous API key, valid until a set time after a rotation

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns and an index of their own: no table rebuild, on SQLite either (the clients table
    # is referenced by every payment).
    op.add_column("clients", sa.Column("previous_api_key_hash", sa.String(length=64), nullable=True))
    op.add_column("clients", sa.Column("previous_key_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_clients_previous_api_key_hash", "clients", ["previous_api_key_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_clients_previous_api_key_hash", table_name="clients")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("previous_key_expires_at")
        batch_op.drop_column("previous_api_key_hash")
