"""postal shipments and their timelines of events (issue 23)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 03:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=500), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("postage_mode", sa.String(length=10), nullable=False),
        sa.Column("cod_amount", sa.BigInteger(), nullable=False),
        sa.Column("cod_collected", sa.BigInteger(), nullable=True),
        sa.Column("postage", sa.BigInteger(), nullable=True),
        sa.Column("carrier", sa.String(length=20), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("booking", sa.String(length=10), nullable=False),
        sa.Column("booking_attempts", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("carrier_order_id", sa.String(length=64), nullable=True),
        sa.Column("item_number", sa.String(length=13), nullable=True),
        sa.Column("office_code", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("sender", sa.JSON(), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("parcel", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_shipments_client_id_clients")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_shipments_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("carrier", "carrier_order_id", name=op.f("uq_shipments_carrier")),
        sa.UniqueConstraint("client_id", "idempotency_key", name=op.f("uq_shipments_client_id")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_client_dossier", ["client_id", "dossier_code"], unique=False)
        batch_op.create_index(
            "ix_shipments_due_poll",
            ["next_poll_at"],
            unique=False,
            sqlite_where=sa.text("next_poll_at IS NOT NULL"),
            postgresql_where=sa.text("next_poll_at IS NOT NULL"),
        )
        batch_op.create_index(batch_op.f("ix_shipments_item_number"), ["item_number"], unique=False)
        batch_op.create_index("ix_shipments_office_status", ["office_code", "status"], unique=False)

    op.create_table(
        "shipment_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_before", sa.String(length=20), nullable=True),
        sa.Column("status_after", sa.String(length=20), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("correction", sa.Boolean(), nullable=False),
        sa.Column("correction_reason", sa.String(length=500), nullable=True),
        sa.Column("proof_id", sa.String(length=40), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_shipment_events_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_shipment_events_dedupe_key")),
    )
    with op.batch_alter_table("shipment_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_events_shipment_id"), ["shipment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shipment_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_events_shipment_id"))

    op.drop_table("shipment_events")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_office_status")
        batch_op.drop_index(batch_op.f("ix_shipments_item_number"))
        batch_op.drop_index(
            "ix_shipments_due_poll",
            sqlite_where=sa.text("next_poll_at IS NOT NULL"),
            postgresql_where=sa.text("next_poll_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_shipments_client_dossier")

    op.drop_table("shipments")
