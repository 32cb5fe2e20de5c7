"""The payment row on the direct path (gateway/db/direct.py): found, shown, and saved under its version.

The ORM's unit of work guards a payment with its `version` column (models.py): two writers racing on
one payment cannot both win. A payment loaded here keeps the same rule by hand: `save` writes the
columns a payment's rules may change, with `version = version + 1`, only where the version is still the
one it was loaded with, and its transaction raises StaleRow (gateway/db/direct.py, a subclass of the ORM's
StaleDataError) when another writer got there first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table

from gateway.auth import Caller
from gateway.db.direct import Database, Row, Sql, Transaction
from gateway.db.models import Payment
from gateway.payments.views import PAYMENT_OUT_COLUMNS

_TABLE: Table = Payment.__table__  # type: ignore[assignment]
_ALL = ", ".join(c.name for c in _TABLE.columns)
# What PaymentRules may change on an existing payment; everything else is fixed at creation.
CHANGEABLE = (
    "status",
    "provider_transaction_id",
    "refunded_amount",
    "provider_codes",
    "updated_at",
    "paid_at",
    "next_query_at",
    "query_attempts",
)

_BY_REFERENCE = Sql(f"SELECT {_ALL} FROM payments WHERE provider = $1 AND provider_ref = $2", _TABLE)  # noqa: S608
_SHOWN_BY_ID = Sql(
    f"SELECT {', '.join(PAYMENT_OUT_COLUMNS)} FROM payments WHERE id = $1 AND client_id = $2",  # noqa: S608
    _TABLE,
)
_SAVE = Sql(
    "UPDATE payments SET "  # noqa: S608 - column names from the model
    + ", ".join(f"{name} = ${i}" for i, name in enumerate(CHANGEABLE, start=1))
    + f", version = version + 1 WHERE id = ${len(CHANGEABLE) + 1} AND version = ${len(CHANGEABLE) + 2}"
)


@dataclass(slots=True)
class Loaded:
    """A payment as loaded, and the values it had then (what `save` compares with)."""

    payment: Payment
    row: Row


class _PlainPayment:
    """A payment's columns as plain attributes (payment_of)."""


def payment_of(row: Row) -> Payment:
    """The payment of `row`, outside any session: an object with a Payment's attributes, and to the type
    checker a Payment, but none of the ORM's instrumentation. Every attribute read and write of a mapped
    instance goes through the ORM's descriptors and change tracking, about 6% of an IPN's CPU
    (bench/README.md), and nothing on the direct path uses them: `save` compares with the row read."""
    payment = _PlainPayment()
    payment.__dict__.update(row)
    return cast(Payment, payment)


async def by_reference(tx: Transaction, provider: str, reference: str) -> Loaded | None:
    row = await tx.fetchrow(_BY_REFERENCE, provider, reference)
    return Loaded(payment_of(row), row) if row is not None else None


def save(tx: Transaction, loaded: Loaded) -> bool:
    """Write what the rules changed, if anything, when `tx` commits (which raises StaleDataError if
    another writer changed the payment since it was loaded); False when nothing had changed."""
    payment, row = loaded.payment, loaded.row
    values = [getattr(payment, name) for name in CHANGEABLE]
    if all(value == row[name] for value, name in zip(values, CHANGEABLE, strict=True)):
        return False
    tx.update_one(_SAVE, *values, payment.id, row["version"])
    row.update(zip(CHANGEABLE, values, strict=True), version=row["version"] + 1)
    payment.version = row["version"]
    return True


async def read_shown(db: Database, client: Caller, payment_id: str) -> dict[str, Any] | None:
    """The columns of a payment that the API shows, or None if `client` has no such payment."""
    return await db.fetchrow(_SHOWN_BY_ID, payment_id, client.id)
