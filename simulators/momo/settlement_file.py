"""MoMo's daily settlement file for the partner: CSV, one row per successful payment or refund of the day
(Vietnam's time), named by MoMo's API field names; `transType` and `fee` are the simulator's (UNVERIFIED:
MoMo's business-portal export is not published). Fee schedule: 1.5% of a payment, nothing on a refund
(UNVERIFIED: negotiated per partner)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from litestar.datastructures import State

from simulators.kit.settlement_files import FileLayout, fee, settlement_handlers

VN_TZ = timezone(timedelta(hours=7))
FEE_BASIS_POINTS = 150


def _day_of(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(VN_TZ).date()


def rows(state: State, day: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for order in state["momo"].store.orders.values():
        base = {"partnerCode": order.merchant.partner_code, "orderId": order.order_id, "payType": order.pay_type}
        if order.result_code == 0 and order.trans_id and _day_of(order.response_time) == day:
            out.append(
                {
                    **base,
                    "transId": order.trans_id,
                    "transType": "payment",
                    "resultCode": 0,
                    "amount": order.amount,
                    "fee": fee(order.amount, FEE_BASIS_POINTS),
                    "responseTime": order.response_time,
                }
            )
        for refund in order.refunds:
            if refund.result_code == 0 and _day_of(refund.created_time) == day:
                out.append(
                    {
                        **base,
                        "transId": refund.trans_id,
                        "transType": "refund",
                        "resultCode": 0,
                        "amount": refund.amount,
                        "fee": 0,
                        "responseTime": refund.created_time,
                    }
                )
    return sorted(out, key=lambda row: row["responseTime"])


def invented(n: int, day: date) -> dict[str, Any]:
    noon = int(datetime(day.year, day.month, day.day, 12, tzinfo=VN_TZ).timestamp() * 1000)
    return {
        "partnerCode": "MOMO",
        "orderId": f"UNKNOWN{n:04d}",
        "transId": 9_900_000_000 + n,
        "transType": "payment",
        "resultCode": 0,
        "amount": 10_000 * n,
        "fee": fee(10_000 * n, FEE_BASIS_POINTS),
        "payType": "qr",
        "responseTime": noon,
    }


LAYOUT = FileLayout(
    name="momo",
    columns=(
        "partnerCode",
        "orderId",
        "transId",
        "transType",
        "resultCode",
        "amount",
        "fee",
        "payType",
        "responseTime",
    ),
    key="orderId",
    amount="amount",
    status="resultCode",
    xlsx=False,
    rows=rows,
    invented=invented,
)
SETTLEMENT_HANDLERS = settlement_handlers(LAYOUT)
