"""Fee lines live in the payment row (JSON) instead of a table of their own.

They never change after creation and are always read with the payment: one statement to write and
one to read instead of 1+N and 2. Existing lines are carried over, in order.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

payments = sa.table("payments", sa.column("id", sa.String), sa.column("lines", sa.JSON))
payment_lines = sa.table(
    "payment_lines",
    sa.column("payment_id", sa.String),
    sa.column("position", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("code", sa.String),
    sa.column("description", sa.String),
    sa.column("amount", sa.BigInteger),
)


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lines", sa.JSON(), nullable=False, server_default="[]"))
    bind = op.get_bind()
    grouped: dict[str, list[dict[str, object]]] = defaultdict(list)
    rows = bind.execute(sa.select(payment_lines).order_by(payment_lines.c.payment_id, payment_lines.c.position))
    for row in rows:
        grouped[row.payment_id].append(
            {"kind": row.kind, "code": row.code, "description": row.description, "amount": row.amount}
        )
    for payment_id, lines in grouped.items():
        bind.execute(payments.update().where(payments.c.id == payment_id).values(lines=lines))
    with op.batch_alter_table("payment_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_lines_payment_id"))
    op.drop_table("payment_lines")


def downgrade() -> None:
    op.create_table(
        "payment_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_payment_lines_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_lines")),
    )
    with op.batch_alter_table("payment_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_lines_payment_id"), ["payment_id"], unique=False)
    bind = op.get_bind()
    for row in bind.execute(sa.select(payments.c.id, payments.c.lines)):
        lines = row.lines if isinstance(row.lines, list) else json.loads(row.lines or "[]")
        for position, line in enumerate(lines):
            bind.execute(payment_lines.insert().values(payment_id=row.id, position=position, **line))
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("lines")
