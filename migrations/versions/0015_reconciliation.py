"""reconciliation: runs of settlement files, their items (rows and discrepancies), resolutions; indexes to match
a file's rows by the provider's transaction id

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
# The lead rechains this onto 0014 at merge (the ledger's revision is not on main yet).
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("business_date", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_rows", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
        sa.UniqueConstraint("provider", "file_sha256", name=op.f("uq_reconciliation_runs_provider")),
    )
    op.create_index(
        op.f("ix_reconciliation_runs_business_date"), "reconciliation_runs", ["business_date"], unique=False
    )
    op.create_table(
        "reconciliation_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=True),
        sa.Column("provider_txn_id", sa.String(length=64), nullable=True),
        sa.Column("order_ref", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("file_status", sa.String(length=20), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("shipment_id", sa.String(length=40), nullable=True),
        sa.Column("gateway_amount", sa.BigInteger(), nullable=True),
        sa.Column("gateway_status", sa.String(length=20), nullable=True),
        sa.Column("settled_by_file", sa.Boolean(), nullable=False),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_items_run_id_reconciliation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_items")),
    )
    op.create_index("ix_reconciliation_items_run_category", "reconciliation_items", ["run_id", "category"])
    op.create_index(
        "ix_reconciliation_items_run_txn", "reconciliation_items", ["run_id", "kind", "provider_txn_id", "line_no"]
    )
    op.create_index("ix_reconciliation_items_run_payment", "reconciliation_items", ["run_id", "payment_id"])
    op.create_table(
        "reconciliation_resolutions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["reconciliation_items.id"],
            name=op.f("fk_reconciliation_resolutions_item_id_reconciliation_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_resolutions")),
        sa.UniqueConstraint("item_id", name=op.f("uq_reconciliation_resolutions_item_id")),
    )
    op.create_index("ix_payments_provider_transaction", "payments", ["provider", "provider_transaction_id"])
    op.create_index("ix_refunds_provider_transaction", "refunds", ["provider_transaction_id"])


def downgrade() -> None:
    op.drop_index("ix_refunds_provider_transaction", table_name="refunds")
    op.drop_index("ix_payments_provider_transaction", table_name="payments")
    op.drop_table("reconciliation_resolutions")
    op.drop_index("ix_reconciliation_items_run_payment", table_name="reconciliation_items")
    op.drop_index("ix_reconciliation_items_run_txn", table_name="reconciliation_items")
    op.drop_index("ix_reconciliation_items_run_category", table_name="reconciliation_items")
    op.drop_table("reconciliation_items")
    op.drop_index(op.f("ix_reconciliation_runs_business_date"), table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
