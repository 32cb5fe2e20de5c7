"""payOS's daily statement for the merchant: CSV, one row per bank transfer received on a payment link that
day (Vietnam's time), named by payOS's transaction fields (orderCode, reference, amount, description,
accountNumber, transactionDateTime); `fee` and `status` are the simulator's (UNVERIFIED). payOS charges a
monthly plan rather than per transfer (UNVERIFIED), so the fee is 0."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar.datastructures import State

from simulators.kit.settlement_files import FileLayout, settlement_handlers

from .state import simulator_of
from .store import now_vn

FEE_PER_TRANSFER = 0


def rows(state: State, day: date) -> list[dict[str, Any]]:
    tz = now_vn().tzinfo
    out: list[dict[str, Any]] = []
    for link in simulator_of(state).store.by_id.values():
        for transfer in link.transfers:
            if transfer.at.astimezone(tz).date() != day:
                continue
            out.append(
                {
                    "orderCode": link.order_code,
                    "reference": transfer.reference,
                    "amount": transfer.amount,
                    "fee": FEE_PER_TRANSFER,
                    "description": link.transfer_content,
                    "accountNumber": link.merchant.account_number,
                    "transactionDateTime": transfer.at.isoformat(),
                    "status": "PAID",
                }
            )
    return sorted(out, key=lambda row: row["transactionDateTime"])


def invented(n: int, day: date) -> dict[str, Any]:
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=now_vn().tzinfo)
    return {
        "orderCode": 990_000_000 + n,
        "reference": f"FT{day:%y%m%d}UNKNOWN{n:04d}",
        "amount": 10_000 * n,
        "fee": FEE_PER_TRANSFER,
        "description": f"UNKNOWN {n}",
        "accountNumber": "113366668888",
        "transactionDateTime": noon.isoformat(),
        "status": "PAID",
    }


LAYOUT = FileLayout(
    name="payos",
    columns=(
        "orderCode",
        "reference",
        "amount",
        "fee",
        "description",
        "accountNumber",
        "transactionDateTime",
        "status",
    ),
    key="orderCode",
    amount="amount",
    status="status",
    xlsx=False,
    rows=rows,
    invented=invented,
)
SETTLEMENT_HANDLERS = settlement_handlers(LAYOUT)
