from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from gateway.app import create_app
from gateway.auth import new_client
from gateway.clock import Clock
from gateway.db.models import Client, Payment, Refund
from gateway.ledger import money_events
from gateway.ledger.checks import Violation, check_ledger
from gateway.receipts.checks import check_receipts
from gateway.settings import Settings
from tests.harness import GATEWAY

DAY = "2026-11-20"
# 10:00 in Vietnam on DAY.
PAID_AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@dataclass
class Finance:
    app: Litestar
    http: httpx.AsyncClient
    client: Client
    key: str
    other_key: str
    clock: Clock
    # Whether the ledger's and the receipts' invariants are checked when the test ends: on for
    # tests/reconciliation (its conftest), off where a test inserts succeeded rows without their entries.
    check_books: bool = False

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    async def add_payment(self, n: int, provider: str = "momo", status: str = "succeeded", **over: Any) -> Payment:
        now = PAID_AT
        payment = Payment(
            id=f"pay_t{n:06d}",
            client_id=self.client.id,
            dossier_code=f"HS-{n}",
            agency_code=over.pop("agency_code", "SO-TP"),
            procedure_code=over.pop("procedure_code", "1.001"),
            payer_name="Nguyễn Văn A",
            provider=provider,
            provider_ref=f"REF{n:06d}",
            provider_transaction_id=(f"T{n:06d}" if status == "succeeded" else None),
            amount=over.pop("amount", 50_000),
            refunded_amount=0,
            currency="VND",
            status=status,
            return_url="https://portal.example/back",
            client_ip="203.0.113.9",
            created_at=now - timedelta(minutes=5),
            updated_at=now,
            expires_at=now + timedelta(minutes=10),
            paid_at=over.pop("paid_at", now if status == "succeeded" else None),
            next_query_at=None if status == "succeeded" else now,
            query_attempts=0,
            provider_codes={},
            lines=over.pop("lines", [{"kind": "fee", "code": "LP", "description": "Lệ phí", "amount": 50_000}]),
            version=1,
            **over,
        )
        async with self.app.state.sessionmaker() as session:
            session.add(payment)
            if status == "succeeded":  # as the gateway's own success would have: its entry and receipt
                money_events.payment_succeeded(session, self.app.state.settings, payment, now)
            await session.commit()
        return payment

    async def add_refund(self, payment_id: str, amount: int, txn: str, at: datetime) -> Refund:
        """A succeeded refund of `payment_id`, with what the gateway's own success writes beside it (the
        payment's refunded amount, the ledger entry, the receipt's adjustment)."""
        async with self.app.state.sessionmaker() as session:
            payment = await session.get_one(Payment, payment_id)
            refund = Refund(
                id=f"rfd_{txn.lower()}",
                payment_id=payment_id,
                amount=amount,
                status="succeeded",
                reason="hồ sơ bị từ chối",
                provider_request_id=f"req-{txn}",
                provider_transaction_id=txn,
                provider_codes={},
                created_at=at,
                updated_at=at,
                next_query_at=None,
                query_attempts=0,
            )
            session.add(refund)
            refunded_before = payment.refunded_amount
            payment.refunded_amount += amount
            await money_events.refund_succeeded(session, self.app.state.settings, payment, refund, refunded_before, at)
            await session.commit()
        return refund

    async def books(self) -> list[Violation]:
        async with self.app.state.sessionmaker() as session:
            return [*await check_ledger(session), *await check_receipts(session)]

    async def upload(
        self, content: bytes, provider: str = "momo", day: str = DAY, name: str = "file.csv", key: str | None = None
    ) -> httpx.Response:
        return await self.http.post(
            "/v1/reconciliation/runs",
            files={"file": (name, content, "text/csv")},
            data={"provider": provider, "business_date": day},
            headers=self.auth(key),
        )

    async def items(self, run_id: str, category: str | None = None) -> list[dict[str, Any]]:
        params = {"limit": "500", **({"category": category} if category else {})}
        r = await self.http.get(f"/v1/reconciliation/runs/{run_id}/items", params=params, headers=self.auth())
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


MOMO_HEADER = "partnerCode,orderId,transId,transType,resultCode,amount,fee,payType,responseTime"
MS = int(PAID_AT.timestamp() * 1000)


def momo_row(n: int, amount: int = 50_000, result: int = 0, kind: str = "payment", txn: str | None = None) -> str:
    fee = amount * 15 // 1000
    return f"MOMO,REF{n:06d},{txn or f'T{n:06d}'},{kind},{result},{amount},{fee},qr,{MS}"


def momo_file(*rows: str) -> bytes:
    return ("\r\n".join([MOMO_HEADER, *rows]) + "\r\n").encode()


@pytest.fixture
async def finance(clean_database: str) -> AsyncIterator[Finance]:
    clock = Clock()
    bootstrap = Settings(database_url=clean_database)
    client, key = new_client("Phòng tài chính", clock.now())
    other, other_key = new_client("Cổng DVC", clock.now())
    settings = Settings(
        database_url=clean_database,
        public_base_url=GATEWAY,
        workers_enabled=False,
        finance_client_ids=[client.id],
        demo_enabled=bootstrap.demo_enabled,
    )
    app = create_app(settings, clock=clock)
    async with app.lifespan():
        async with app.state.sessionmaker() as session:
            session.add_all([client, other])
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=GATEWAY) as http:
            finance = Finance(app, http, client, key, other_key, clock)
            yield finance
            if finance.check_books:
                assert await finance.books() == []
