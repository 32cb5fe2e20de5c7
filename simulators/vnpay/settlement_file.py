"""VNPay's daily reconciliation file for the merchant: an Excel workbook, one row per successful payment or
refund of the day (Vietnam's time), named by VNPay's own field names. VNPay's real merchant report layout is
not published: UNVERIFIED (docs/simulators.md). Fee schedule: 1.1% of a payment, at least 1,650 đồng;
nothing on a refund (UNVERIFIED: VNPay's fees are negotiated per merchant)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar.datastructures import State

from simulators.kit.settlement_files import FileLayout, fee, settlement_handlers

from .simulator_state import simulator_of
from .wire import VN_TZ, format_vnp_date

FEE_BASIS_POINTS = 110
FEE_MINIMUM = 1_650


def rows(state: State, day: date) -> list[dict[str, Any]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for txn in simulator_of(state).store.transactions.values():
        if txn.transaction_no and txn.paid_at and txn.paid_at.astimezone(VN_TZ).date() == day:
            out.append(
                (
                    format_vnp_date(txn.paid_at),
                    {
                        "vnp_TmnCode": txn.tmn_code,
                        "vnp_TxnRef": txn.txn_ref,
                        "vnp_TransactionNo": txn.transaction_no,
                        "vnp_TransactionType": "01",
                        "vnp_TransactionStatus": "00",
                        "vnp_Amount": txn.amount,
                        "vnp_Fee": fee(txn.amount, FEE_BASIS_POINTS, FEE_MINIMUM),
                        "vnp_BankCode": txn.bank_code or "",
                        "vnp_PayDate": format_vnp_date(txn.paid_at),
                    },
                )
            )
        for refund in txn.refunds:
            if refund.transaction_status == "00" and refund.requested_at.astimezone(VN_TZ).date() == day:
                out.append(
                    (
                        format_vnp_date(refund.requested_at),
                        {
                            "vnp_TmnCode": txn.tmn_code,
                            "vnp_TxnRef": txn.txn_ref,
                            "vnp_TransactionNo": refund.transaction_no,
                            "vnp_TransactionType": refund.transaction_type,
                            "vnp_TransactionStatus": "00",
                            "vnp_Amount": refund.amount,
                            "vnp_Fee": 0,
                            "vnp_BankCode": txn.bank_code or "",
                            "vnp_PayDate": format_vnp_date(refund.requested_at),
                        },
                    )
                )
    return [row for _, row in sorted(out, key=lambda pair: pair[0])]


def invented(n: int, day: date) -> dict[str, Any]:
    return {
        "vnp_TmnCode": "DVCGW001",
        "vnp_TxnRef": f"UNKNOWN{n:04d}",
        "vnp_TransactionNo": str(99_000_000 + n),
        "vnp_TransactionType": "01",
        "vnp_TransactionStatus": "00",
        "vnp_Amount": 10_000 * n,
        "vnp_Fee": fee(10_000 * n, FEE_BASIS_POINTS, FEE_MINIMUM),
        "vnp_BankCode": "NCB",
        "vnp_PayDate": day.strftime("%Y%m%d") + "120000",
    }


LAYOUT = FileLayout(
    name="vnpay",
    columns=(
        "vnp_TmnCode",
        "vnp_TxnRef",
        "vnp_TransactionNo",
        "vnp_TransactionType",
        "vnp_TransactionStatus",
        "vnp_Amount",
        "vnp_Fee",
        "vnp_BankCode",
        "vnp_PayDate",
    ),
    key="vnp_TxnRef",
    amount="vnp_Amount",
    status="vnp_TransactionStatus",
    xlsx=True,
    rows=rows,
    invented=invented,
)
SETTLEMENT_HANDLERS = settlement_handlers(LAYOUT)
