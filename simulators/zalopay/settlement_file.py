"""ZaloPay's daily settlement file for the app: CSV, one row per successful payment of the day (Vietnam's
time), named by ZaloPay's API field names; `type`, `refund_id` and `merchant_fee` are the simulator's
(UNVERIFIED: ZaloPay's merchant-portal export is not published). The simulator keeps no time for a refund,
so its file lists payments only. Fee schedule: 1.3% of a payment (UNVERIFIED: negotiated per merchant)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from litestar.datastructures import State

from simulators.kit.settlement_files import FileLayout, fee, settlement_handlers

from .simulator_state import simulator_of
from .store import PAID, VN_TZ

FEE_BASIS_POINTS = 130


def rows(state: State, day: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for order in simulator_of(state).store.orders.values():
        if order.status != PAID or order.server_time is None or order.zp_trans_id is None:
            continue
        if datetime.fromtimestamp(order.server_time / 1000, UTC).astimezone(VN_TZ).date() != day:
            continue
        out.append(
            {
                "app_id": order.app.app_id,
                "app_trans_id": order.app_trans_id,
                "zp_trans_id": order.zp_trans_id,
                "refund_id": "",
                "type": 1,
                "status": 1,
                "amount": order.amount,
                "merchant_fee": fee(order.amount, FEE_BASIS_POINTS),
                "server_time": order.server_time,
            }
        )
    return sorted(out, key=lambda row: row["server_time"])


def invented(n: int, day: date) -> dict[str, Any]:
    noon = int(datetime(day.year, day.month, day.day, 12, tzinfo=VN_TZ).timestamp() * 1000)
    return {
        "app_id": 2553,
        "app_trans_id": f"{day:%y%m%d}_UNKNOWN{n:04d}",
        "zp_trans_id": 990_000_000_000 + n,
        "refund_id": "",
        "type": 1,
        "status": 1,
        "amount": 10_000 * n,
        "merchant_fee": fee(10_000 * n, FEE_BASIS_POINTS),
        "server_time": noon,
    }


LAYOUT = FileLayout(
    name="zalopay",
    columns=(
        "app_id",
        "app_trans_id",
        "zp_trans_id",
        "refund_id",
        "type",
        "status",
        "amount",
        "merchant_fee",
        "server_time",
    ),
    key="app_trans_id",
    amount="amount",
    status="status",
    xlsx=False,
    rows=rows,
    invented=invented,
)
SETTLEMENT_HANDLERS = settlement_handlers(LAYOUT)
