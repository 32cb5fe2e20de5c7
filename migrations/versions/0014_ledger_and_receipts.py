"""the double-entry ledger (journal entries and their postings) and e-receipts with gap-free numbering (issue 24)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 04:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On PostgreSQL the database itself refuses to change or delete ledger rows (the ORM refuses it on both);
# TRUNCATE, which only an operator or the test suite runs, is not a row change and is left alone.
_APPEND_ONLY = [
    """CREATE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: post a correcting entry';
END;
$$ LANGUAGE plpgsql""",
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        for table in ("journal_entries", "ledger_postings")
    ),
]


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column("cause_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("corrects_id", sa.String(length=40), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["journal_entries.id"], name=op.f("fk_journal_entries_corrects_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("cause", "cause_id", name=op.f("uq_journal_entries_cause")),
    )
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("account_kind", sa.String(length=30), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_ledger_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    op.create_index("ix_ledger_postings_account", "ledger_postings", ["account_kind", "account_key"], unique=False)
    op.create_index(op.f("ix_ledger_postings_entry_id"), "ledger_postings", ["entry_id"], unique=False)
    op.create_table(
        "receipt_counters",
        sa.Column("form", sa.String(length=20), nullable=False),
        sa.Column("series", sa.String(length=20), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("form", "series", name=op.f("pk_receipt_counters")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("original_id", sa.String(length=40), nullable=True),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("form", sa.String(length=20), nullable=False),
        sa.Column("series", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("cancel_refund_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["cancel_refund_id"], ["refunds.id"], name=op.f("fk_receipts_cancel_refund_id_refunds")
        ),
        sa.ForeignKeyConstraint(["original_id"], ["receipts.id"], name=op.f("fk_receipts_original_id_receipts")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_receipts_payment_id_payments")),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"], name=op.f("fk_receipts_refund_id_refunds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("form", "series", "number", name=op.f("uq_receipts_form")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_receipts_refund_id")),
        sa.UniqueConstraint("token", name=op.f("uq_receipts_token")),
    )
    op.create_index(op.f("ix_receipts_payment_id"), "receipts", ["payment_id"], unique=False)
    op.create_index(
        "uq_receipts_original_payment",
        "receipts",
        ["payment_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'original'"),
        postgresql_where=sa.text("kind = 'original'"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _APPEND_ONLY:  # one statement each: asyncpg prepares what it is given
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_postings_append_only ON ledger_postings")
        op.execute("DROP TRIGGER journal_entries_append_only ON journal_entries")
        op.execute("DROP FUNCTION ledger_append_only()")
    op.drop_index("uq_receipts_original_payment", table_name="receipts")
    op.drop_index(op.f("ix_receipts_payment_id"), table_name="receipts")
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
    op.drop_index(op.f("ix_ledger_postings_entry_id"), table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_account", table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_table("journal_entries")
