"""webhook events say which dispatcher holds their lease; a failed attempt is shown as a category

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhook_events", sa.Column("locked_by", sa.String(length=40), nullable=True))
    # Portals read last_error. It held the network's own words ("ConnectError: [Errno 111] ..."), which
    # tell whoever set the URL what answers at an address: each becomes the category the dispatcher now
    # writes (gateway/webhooks/dispatcher.py).
    op.execute(
        """
        UPDATE webhook_events SET last_error = CASE
            WHEN last_error LIKE 'endpoint answered HTTP %' THEN REPLACE(last_error, 'endpoint answered ', '')
            WHEN last_error = 'the client has no webhook endpoint registered' THEN 'no endpoint registered'
            WHEN last_error LIKE '%Timeout%' THEN 'timed out'
            WHEN last_error LIKE 'ConnectError%' THEN 'connection failed'
            ELSE 'request failed'
        END
        WHERE last_error IS NOT NULL
        """
    )


def downgrade() -> None:
    # The network's words are not kept anywhere to put back; the categories stay.
    with op.batch_alter_table("webhook_events") as batch_op:
        batch_op.drop_column("locked_by")
