"""Data the scenarios need, made in-process with the gateway's own code (not through HTTP, to keep it fast).

- a portal client and its API key;
- pending payments, made by PaymentService.create exactly as POST /v1/payments makes them;
- signed VNPay IPN paths for those payments (success, vnp_Amount = amount x 100).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.vnpay.signing import canonical_query, sign_query
from adapters.vnpay.wire import format_time
from contracts.examples import payment_create_body
from contracts.payments import PaymentCreate
from gateway.clock import clock
from gateway.db.engine import create_engine, create_sessionmaker
from gateway.db.models import Client
from gateway.logging import configure_logging
from gateway.payments.providers import build_providers
from gateway.payments.service import PaymentService
from gateway.settings import Settings

IPN_PATH = "/callbacks/vnpay/ipn"

PAYMENT_BODY: dict[str, Any] = payment_create_body()


@dataclass(frozen=True, slots=True)
class PreparedPayment:
    id: str
    provider_ref: str
    amount: int


def _settings(url: str) -> Settings:
    return Settings(database_url=url, workers_enabled=False, log_level="WARNING")


def quiet_logging() -> None:
    """PaymentService logs every creation; the preparing process has no use for that."""
    configure_logging("WARNING")


async def _create_client(url: str) -> tuple[str, str]:
    from gateway.cli import create_client

    client_id, api_key, _secret = await create_client(_settings(url), "Cổng DVC (bench)", None)
    return client_id, api_key


def create_client(url: str) -> tuple[str, str]:
    """(client id, API key) of a new portal client without a webhook URL (no outbox deliveries)."""
    return asyncio.run(_create_client(url))


async def _create_payments(url: str, client_id: str, n: int, batch: int) -> list[PreparedPayment]:
    settings = _settings(url)
    engine = create_engine(url)
    providers = build_providers(settings, clock)
    data = PaymentCreate.model_validate(PAYMENT_BODY)
    made: list[PreparedPayment] = []
    try:
        sessionmaker = create_sessionmaker(engine)
        while len(made) < n:
            async with sessionmaker() as session:
                client = await session.get(Client, client_id)
                assert client is not None
                service = PaymentService(session, providers, settings, clock)
                chunk = [service.create(client, data, "127.0.0.1") for _ in range(min(batch, n - len(made)))]
                await session.commit()
                made.extend(PreparedPayment(p.id, p.provider_ref, p.amount) for p in chunk)
    finally:
        await providers.aclose()
        await engine.dispose()
    return made


def create_payments(url: str, client_id: str, n: int, batch: int = 500) -> list[PreparedPayment]:
    """n new pending payments of the client, committed in batches."""
    if n <= 0:
        return []
    return asyncio.run(_create_payments(url, client_id, n, batch))


def ipn_path(payment: PreparedPayment, seq: int, *, tmn_code: str | None = None, secret: str | None = None) -> str:
    """The signed GET path VNPay would call for a successful payment (shape of the 2.1.0 guide's example)."""
    vn = Settings().vnpay
    params = {
        "vnp_Amount": str(payment.amount * 100),
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": f"VNP{20000000 + seq}",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Thanh toan phi le phi ho so 000.00.12.H29-241123-0001",
        "vnp_PayDate": format_time(clock.now() - timedelta(seconds=5)),
        "vnp_ResponseCode": "00",
        "vnp_TmnCode": tmn_code or vn.tmn_code,
        "vnp_TransactionNo": str(20000000 + seq),
        "vnp_TransactionStatus": "00",
        "vnp_TxnRef": payment.provider_ref,
    }
    signature = sign_query(params, secret or vn.hash_secret.get_secret_value())
    return f"{IPN_PATH}?{canonical_query(params)}&vnp_SecureHash={signature}"


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path
