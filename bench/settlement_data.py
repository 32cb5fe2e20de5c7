"""A settlement file of N MoMo payments with known, injected discrepancies, and the N payments the gateway
holds for it (bulk-inserted), for bench/reconcile.py and the small correctness run in the tests.

Payment i (1..N) is `B{i:09d}`, 50,000 đồng, paid on the business day. By i % 1000 (or % 10000):
  1: the file says 51,000                     -> amount_mismatch
  2: the file says resultCode 1006 (failed)   -> status_mismatch
  3: not in the file                          -> missing_in_provider
  4: in the file twice                        -> one matched, one duplicate
  i % 10000 == 5: the gateway has it processing, with no transaction id -> matched, settled by the file
and N // 1000 rows of transactions the gateway never saw are appended -> missing_in_gateway.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.auth import new_client
from gateway.db.models import Client, Payment

DAY = date(2026, 11, 20)
PAID_AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
AMOUNT = 50_000
HEADER = ["partnerCode", "orderId", "transId", "transType", "resultCode", "amount", "fee", "payType", "responseTime"]
BATCH = 10_000


def kind_of(i: int) -> str:
    if i % 10_000 == 5:
        return "processing"
    return {1: "amount", 2: "status", 3: "drop", 4: "duplicate"}.get(i % 1000, "plain")


def expected(n: int) -> dict[str, int]:
    counts = {"amount": 0, "status": 0, "drop": 0, "duplicate": 0, "processing": 0, "plain": 0}
    for i in range(1, n + 1):
        counts[kind_of(i)] += 1
    return {
        "matched": counts["plain"] + counts["processing"] + counts["duplicate"],
        "amount_mismatch": counts["amount"],
        "status_mismatch": counts["status"],
        "missing_in_provider": counts["drop"],
        "duplicate": counts["duplicate"],
        "missing_in_gateway": n // 1000,
        "settled_by_file": counts["processing"],
    }


def _file_rows(n: int) -> Iterator[list[object]]:
    ms = int(PAID_AT.timestamp() * 1000)
    for i in range(1, n + 1):
        kind = kind_of(i)
        if kind == "drop":
            continue
        amount = AMOUNT + 1000 if kind == "amount" else AMOUNT
        result = 1006 if kind == "status" else 0
        row = ["MOMO", f"B{i:09d}", str(i), "payment", result, amount, amount * 15 // 1000, "qr", ms + i]
        yield row
        if kind == "duplicate":
            yield row
    for j in range(1, n // 1000 + 1):
        yield ["MOMO", f"X{j:09d}", f"X{j}", "payment", 0, AMOUNT, 750, "qr", ms + n + j]


def write_file(path: Path, n: int) -> int:
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for row in _file_rows(n):
            writer.writerow(row)
            rows += 1
    return rows


def _payment(client_id: str, i: int) -> dict[str, Any]:
    processing = kind_of(i) == "processing"
    return {
        "id": f"pay_b{i:09d}",
        "client_id": client_id,
        "dossier_code": f"HS-{i}",
        "agency_code": f"AG{i % 7}",
        "procedure_code": f"1.{i % 13:03d}",
        "payer_name": "Nguyễn Văn A",
        "payer_phone": None,
        "payer_email": None,
        "provider": "momo",
        "provider_ref": f"B{i:09d}",
        "provider_transaction_id": None if processing else str(i),
        "amount": AMOUNT,
        "refunded_amount": 0,
        "currency": "VND",
        "status": "processing" if processing else "succeeded",
        "return_url": "https://portal.example/back",
        "checkout_url": None,
        "qr_code": None,
        "deeplink": None,
        "provider_order_id": None,
        "client_ip": "203.0.113.9",
        "created_at": PAID_AT - timedelta(minutes=5),
        "updated_at": PAID_AT,
        "expires_at": PAID_AT + timedelta(minutes=10),
        "paid_at": None if processing else PAID_AT,
        "next_query_at": PAID_AT if processing else None,
        "query_attempts": 0,
        "provider_codes": {},
        "version": 1,
        "lines": [{"kind": "fee", "code": "LP", "description": "Lệ phí", "amount": AMOUNT}],
    }


async def insert_payments(engine: AsyncEngine, n: int) -> None:
    client, _ = new_client("Bench portal", PAID_AT)
    table = cast(Table, Payment.__table__)
    async with engine.begin() as conn:
        await conn.execute(insert(cast(Table, Client.__table__)), [_client_row(client)])
        batch: list[dict[str, Any]] = []
        for i in range(1, n + 1):
            batch.append(_payment(client.id, i))
            if len(batch) == BATCH:
                await conn.execute(insert(table), batch)
                batch = []
        if batch:
            await conn.execute(insert(table), batch)
    if engine.dialect.name == "postgresql":
        # As a live database's would be: autovacuum keeps a busy table's statistics current.
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE payments"))


def _client_row(client: Client) -> dict[str, Any]:
    return {c.key: getattr(client, c.key) for c in cast(Table, Client.__table__).columns}
