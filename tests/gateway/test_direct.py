"""The direct path (gateway/db/direct.py): the same rows as the ORM's, one transaction, nothing leaked."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from contracts.providers import ProviderOutcome, ProviderResult
from gateway.auth import new_client
from gateway.clock import Clock
from gateway.db.direct import Database, DuplicateRow, PostgresDatabase, Sql, open_database
from gateway.db.engine import create_engine, create_sessionmaker
from gateway.db.models import Client, Payment, PaymentEvent, ProviderNotification, WebhookEvent
from gateway.payments import rows
from gateway.payments.service import PaymentRules
from gateway.settings import Settings
from tests.harness import LoopTicks

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 23, 18, 30, 15, 123456, tzinfo=UTC)
NAIVE = NOW.replace(tzinfo=None)  # the same wall time without its zone: refused


@pytest.fixture
async def stores(clean_database: str) -> AsyncIterator[tuple[Database, AsyncSession, Client]]:
    engine = create_engine(clean_database)
    db = open_database(clean_database)
    try:
        async with create_sessionmaker(engine)() as session:
            client, _ = new_client("Cổng DVC", NOW)
            session.add(client)
            await session.commit()
            yield db, session, client
    finally:
        await db.close()
        await engine.dispose()


def _payment_row(client: Client, reference: str = "REF1") -> dict[str, object]:
    return {
        "id": f"pay_{reference.lower()}",
        "client_id": client.id,
        "dossier_code": "000.00.00.H01-261123-0001",
        "agency_code": "H01",
        "procedure_code": "1.0001",
        "payer_name": "Nguyễn Văn A",
        "payer_phone": "0912345678",
        "payer_email": None,
        "provider": "vnpay",
        "provider_ref": reference,
        "provider_transaction_id": None,
        "amount": 35_000,
        "status": "pending",
        "return_url": "https://dichvucong.example/return",
        "checkout_url": "https://vnpay.example/pay",
        "client_ip": "127.0.0.1",
        "created_at": NOW,
        "updated_at": NOW,
        "expires_at": NOW + timedelta(minutes=15),
        "paid_at": None,
        "next_query_at": NOW + timedelta(minutes=15),
        "version": 1,
        "lines": [{"kind": "fee", "code": "LP01", "description": "Lệ phí", "amount": 35_000}],
    }


def _notification(ack_code: str) -> dict[str, object]:
    return {
        "provider": "vnpay",
        "reference": "REF1",
        "payload": {"a": "b"},
        "signature_valid": ack_code != "97",
        "ack_code": ack_code,
        "received_at": NOW,
    }


async def test_rows_written_directly_read_back_through_the_orm_and_the_other_way(
    stores: tuple[Database, AsyncSession, Client],
) -> None:
    db, session, client = stores
    async with db.transaction() as tx:
        tx.append(Payment, _payment_row(client))  # refunded_amount, currency, query_attempts, codes: defaults
        tx.append(
            ProviderNotification,
            _notification("97"),
        )
    payment = await session.scalar(select(Payment).where(Payment.id == "pay_ref1"))
    assert payment is not None
    assert (payment.created_at, payment.expires_at, payment.paid_at) == (NOW, NOW + timedelta(minutes=15), None)
    assert (payment.refunded_amount, payment.currency, payment.query_attempts) == (0, "VND", 0)
    assert payment.provider_codes == {} and payment.lines[0]["description"] == "Lệ phí"
    notification = await session.scalar(select(ProviderNotification))
    assert notification is not None and notification.signature_valid is False and notification.payload == {"a": "b"}

    # The other way: what the ORM wrote, read on the direct path with the same types.
    payment.paid_at = NOW + timedelta(seconds=1)
    payment.provider_codes = {"vnp_ResponseCode": "00"}
    await session.commit()
    async with db.transaction() as tx:
        loaded = await rows.by_reference(tx, "vnpay", "REF1")
    assert loaded is not None
    assert loaded.row["paid_at"] == NOW + timedelta(seconds=1) and loaded.row["paid_at"].tzinfo is not None
    assert loaded.row["provider_codes"] == {"vnp_ResponseCode": "00"} and loaded.row["version"] == 2
    shown = await db.fetchrow(Sql("SELECT active FROM clients WHERE id = $1", Client.__table__), client.id)
    assert shown == {"active": True}
    # Times compare in SQL (SQLite compares the stored text, so its format must sort as the times do).
    due = Sql("SELECT id FROM payments WHERE next_query_at <= $1")
    assert await db.fetchrow(due, NOW + timedelta(minutes=15)) == {"id": "pay_ref1"}
    assert await db.fetchrow(due, NOW + timedelta(minutes=14, seconds=59, microseconds=999_999)) is None


async def test_a_transaction_that_raises_writes_nothing_and_every_connection_comes_back(
    stores: tuple[Database, AsyncSession, Client],
) -> None:
    db, _, client = stores

    async def failing() -> None:
        async with db.transaction() as tx:
            await tx.execute(Sql("UPDATE clients SET name = $1 WHERE id = $2"), "changed", client.id)
            tx.append(Payment, _payment_row(client))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    assert db.in_use() == 0
    async with db.transaction() as tx:  # the connection is clean for the next user
        assert await tx.fetchrow(Sql("SELECT name FROM clients WHERE id = $1"), client.id) == {"name": "Cổng DVC"}
        assert await tx.fetchrow(Sql("SELECT id FROM payments")) is None
    with pytest.raises(ValueError, match="naive"):
        async with db.transaction() as tx:
            await tx.execute(Sql("UPDATE clients SET created_at = $1"), NAIVE)
    assert db.in_use() == 0


async def test_a_unique_constraint_is_a_duplicate_row_on_both_databases(
    stores: tuple[Database, AsyncSession, Client],
) -> None:
    db, _, client = stores
    async with db.transaction() as tx:
        tx.append(Payment, _payment_row(client))
    with pytest.raises(DuplicateRow):
        async with db.transaction() as tx:
            tx.append(Payment, _payment_row(client) | {"id": "pay_other"})  # same provider reference
    insert = Sql(
        'INSERT INTO idempotency_keys (client_id, "key", fingerprint, operation, created_at)'
        " VALUES ($1, 'k', 'f', 'op', $2) RETURNING id"
    )
    async with db.transaction() as tx:
        first = await tx.fetchrow(insert, client.id, NOW)
    with pytest.raises(DuplicateRow):
        async with db.transaction() as tx:
            await tx.fetchrow(insert, client.id, NOW)
    assert first is not None and isinstance(first["id"], int)
    assert db.in_use() == 0


async def test_saving_a_payment_another_writer_changed_is_stale(
    stores: tuple[Database, AsyncSession, Client],
) -> None:
    db, session, client = stores
    async with db.transaction() as tx:
        tx.append(Payment, _payment_row(client))
    rules = PaymentRules(None, None, Settings(), Clock())  # type: ignore[arg-type]
    result = ProviderResult(reference="REF1", outcome=ProviderOutcome.SUCCEEDED, amount=35_000, codes={"x": "00"})

    async def overtaken() -> None:
        async with db.transaction() as tx:
            loaded = await rows.by_reference(tx, "vnpay", "REF1")
            assert loaded is not None
            rules.writes = tx
            rules.record(loaded.payment, result, "ipn")
            assert rows.save(tx, loaded) is True
            tx.append(ProviderNotification, _notification("stale"))
            # Meanwhile another writer, on a connection of its own, moved the payment on: this
            # transaction has only read so far, so it holds no lock (and on PostgreSQL it will be one
            # statement, its inserts depending on its UPDATE).
            await session.execute(update(Payment).where(Payment.id == "pay_ref1").values(version=Payment.version + 1))
            await session.commit()

    with pytest.raises(StaleDataError):
        await overtaken()
    assert db.in_use() == 0
    await session.execute(update(Payment).where(Payment.id == "pay_ref1").values(version=1))
    await session.commit()
    async with db.transaction() as tx:  # nothing of the stale attempt was kept
        loaded = await rows.by_reference(tx, "vnpay", "REF1")
        assert loaded is not None and loaded.row["status"] == "pending" and loaded.row["version"] == 1
        rules.writes = tx
        rules.record(loaded.payment, result, "ipn")
        assert rows.save(tx, loaded) is True
        assert rows.save(tx, loaded) is False  # nothing changed since
        tx.append(ProviderNotification, _notification("kept"))
        tx.append(ProviderNotification, _notification("97"))
    notifications = (await session.scalars(select(ProviderNotification).order_by(ProviderNotification.id))).all()
    assert [(n.ack_code, n.signature_valid, n.received_at) for n in notifications] == [
        ("kept", True, NOW),
        ("97", False, NOW),
    ]
    payment = await session.scalar(select(Payment).where(Payment.id == "pay_ref1"))
    assert payment is not None and (payment.status, payment.version) == ("succeeded", 2)
    assert payment.provider_codes == {"x": "00"} and payment.paid_at is not None
    events = (await session.scalars(select(PaymentEvent))).all()
    assert [(e.from_status, e.to_status, e.cause) for e in events] == [("pending", "succeeded", "ipn")]
    assert [e.type for e in (await session.scalars(select(WebhookEvent))).all()] == ["payment.succeeded"]


async def test_sqlite_a_direct_transaction_waits_for_a_session_holding_the_lock_without_blocking_the_loop(
    stores: tuple[Database, AsyncSession, Client],
) -> None:
    db, session, client = stores
    if session.bind.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no database-wide write lock to wait for")
    client.name = "holder"
    await session.flush()  # the session's connection now holds the write lock

    async def writer() -> None:
        async with db.transaction() as tx:
            await tx.execute(Sql("UPDATE clients SET name = $1"), "direct")

    ticks = LoopTicks()
    waiting = asyncio.create_task(writer())
    await asyncio.sleep(0.05)
    assert not waiting.done() and ticks.count > 5  # waiting, and the loop kept running
    await session.commit()
    await asyncio.wait_for(waiting, 5)
    ticks.stop()
    assert await db.fetchrow(Sql("SELECT name FROM clients")) == {"name": "direct"}
    assert db.in_use() == 0


def test_sqlite_in_memory_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        open_database("sqlite+aiosqlite:///:memory:")


async def test_appended_rows_of_several_tables_commit_together_in_order(
    stores: tuple[Database, AsyncSession, Client],
) -> None:
    """On PostgreSQL they go as one statement; the events refer to payments inserted in that statement."""
    db, session, client = stores

    def event(payment_id: str, detail: str) -> dict[str, object]:
        return {"payment_id": payment_id, "to_status": "pending", "cause": "portal", "occurred_at": NOW} | (
            {"detail": detail} if detail else {}
        )

    async with db.transaction() as tx:
        tx.append(Payment, _payment_row(client, "A"))
        tx.append(PaymentEvent, event("pay_a", "first"))
        tx.append(PaymentEvent, event("pay_a", ""))  # other columns: the default detail
        tx.append(Payment, _payment_row(client, "B") | {"currency": "VND", "query_attempts": 2})
        tx.append(PaymentEvent, event("pay_b", "third"))
    events = (await session.scalars(select(PaymentEvent).order_by(PaymentEvent.id))).all()
    assert [(e.payment_id, e.detail, e.provider_codes) for e in events] == [
        ("pay_a", "first", {}),
        ("pay_a", "", {}),
        ("pay_b", "third", {}),
    ]
    assert [p.query_attempts for p in (await session.scalars(select(Payment).order_by(Payment.id))).all()] == [0, 2]

    async def mixed() -> None:
        async with db.transaction() as tx:
            tx.append(PaymentEvent, event("pay_a", "x"))
            tx.append(PaymentEvent, event("pay_a", "y") | {"refund_id": None})

    with pytest.raises(ValueError, match="different columns"):  # NULL in one VALUES, a default on its own
        await mixed()
    assert len((await session.scalars(select(PaymentEvent))).all()) == 3


def test_a_payment_built_from_a_row_works_in_a_process_that_has_done_nothing_else() -> None:
    """Served, the first request can be an IPN: no ORM call may have configured the mappers before."""
    code = (
        "from datetime import UTC, datetime\n"
        "from gateway.payments.rows import payment_of\n"
        "p = payment_of({'id': 'pay_x', 'amount': 1000, 'status': 'pending', 'created_at': datetime.now(UTC)})\n"
        "p.status = 'succeeded'\n"
        "print(p.id, p.amount, p.status)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)  # noqa: S603
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["pay_x", "1000", "succeeded"]


async def test_later_statements_commit_with_the_appended_rows_or_not_at_all(
    stores: tuple[Database, AsyncSession, Client],
) -> None:
    db, _, client = stores
    rename = Sql("UPDATE clients SET name = $1 WHERE id = $2")
    read_name = Sql("SELECT name FROM clients WHERE id = $1")
    async with db.transaction() as tx:
        assert await tx.fetchrow(read_name, client.id) == {"name": "Cổng DVC"}
        tx.append(Payment, _payment_row(client))
        tx.append(Payment, _payment_row(client, "REF3"))
        tx.later(rename, "renamed", client.id)
    if isinstance(db, PostgresDatabase):
        assert tx.begun is False  # reads, appends and `later` were one statement, no BEGIN
    assert await db.fetchrow(read_name, client.id) == {"name": "renamed"}

    async def refused() -> None:
        async with db.transaction() as tx:
            tx.append(Payment, _payment_row(client, "REF2"))
            tx.later(rename, "lost", client.id)
            # Runs last on SQLite, after the row above and the rename: both are rolled back.
            tx.later(Sql("UPDATE payments SET id = $1 WHERE id = $2"), "pay_ref1", "pay_ref3")

    with pytest.raises(DuplicateRow):
        await refused()
    assert await db.fetchrow(read_name, client.id) == {"name": "renamed"}
    assert await db.fetchrow(Sql("SELECT id FROM payments WHERE id = $1"), "pay_ref2") is None
    assert db.in_use() == 0


async def test_an_update_in_a_begun_transaction_is_stale_the_same_way(
    stores: tuple[Database, AsyncSession, Client],
) -> None:
    # Beside a `later` statement the UPDATE runs on its own after BEGIN on PostgreSQL, not as the first
    # part of one statement (on SQLite, in the group commit's savepoint): a changed version must still
    # write nothing.
    db, session, client = stores
    async with db.transaction() as tx:
        tx.append(Payment, _payment_row(client))
    rename = Sql("UPDATE clients SET name = $1 WHERE id = $2")
    bump = Sql("UPDATE payments SET status = $1, version = version + 1 WHERE id = $2 AND version = $3")

    async def attempt(name: str, version: int) -> None:
        async with db.transaction() as tx:
            tx.update_one(bump, "processing", "pay_ref1", version)
            tx.later(rename, name, client.id)
            tx.append(ProviderNotification, _notification(name))

    with pytest.raises(StaleDataError):
        await attempt("stale", 2)
    await attempt("kept", 1)
    assert [n.ack_code for n in (await session.scalars(select(ProviderNotification))).all()] == ["kept"]
    assert (await session.scalar(select(Client.name).where(Client.id == client.id))) == "kept"
    assert (await session.scalar(select(Payment.version).where(Payment.id == "pay_ref1"))) == 2
    assert db.in_use() == 0
