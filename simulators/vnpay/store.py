"""The simulator's memory: transactions by (TmnCode, TxnRef), payment-page sessions, refunds, request ids.

Everything runs on one event loop and no method awaits, so a check-then-set here cannot interleave
with another request.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from .config import Merchant, SimulatorConfig
from .pay_request import PayRequest
from .wire import format_vnp_date, now_vn, wire_amount

TEST_CARD_BANK = "NCB"
CARD_TYPE_ATM = "ATM"
# VNPay reports a failed or cancelled payment with vnp_TransactionNo=0 (seen on real return URLs).
NO_TRANSACTION_NO = "0"
# vnp_TransactionStatus of a refund: 05 VNPay processing, 06 sent to the bank, 00 done, 09 refused.
REFUND_STATUSES = frozenset({"00", "05", "06", "09"})
REFUND_REFUSED = "09"


class Outcome(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def transaction_status_for(response_code: str) -> str:
    """vnp_TransactionStatus that goes with a finished payment's vnp_ResponseCode."""
    if response_code == "00":
        return "00"
    # 07: the account was debited but VNPay holds the payment as suspected fraud.
    if response_code == "07":
        return "07"
    return "02"


def mask_card_number(number: str) -> str:
    # VNPay's querydr shows cards as 970419xxxxxxxxx2198: BIN and last four only.
    if len(number) < 12:
        return "x" * len(number)
    return number[:6] + "x" * (len(number) - 10) + number[-4:]


@dataclass
class IpnAttempt:
    number: int
    kind: str  # notify, retry, duplicate, stale, manual
    sent_at: datetime
    response_code: str  # the vnp_ResponseCode this IPN carried
    transaction_status: str
    http_status: int | None = None
    rsp_code: str | None = None
    message: str | None = None
    error: str | None = None
    acknowledged: bool = False


@dataclass
class Refund:
    request_id: str
    transaction_no: str
    transaction_type: str
    amount: int  # VND
    transaction_status: str
    order_info: str
    create_by: str
    requested_at: datetime


@dataclass
class Transaction:
    merchant: Merchant
    txn_ref: str
    amount: int  # VND
    order_info: str
    order_type: str
    locale: str
    return_url: str
    ip_addr: str
    create_date: str
    expire_at: datetime | None
    requested_bank_code: str | None
    created_at: datetime
    response_code: str | None = None
    transaction_status: str = "01"
    transaction_no: str | None = None
    bank_tran_no: str | None = None
    bank_code: str | None = None
    card_type: str | None = None
    # vnp_PayDate: when VNPay finished the transaction, whether or not money moved.
    paid_at: datetime | None = None
    card_number_masked: str | None = None
    card_holder: str | None = None
    trace: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    ipn_attempts: list[IpnAttempt] = field(default_factory=list)
    ipn_acknowledged: bool = False
    ipn_dropped: bool = False
    stale_ipn_sent: bool = False

    @property
    def tmn_code(self) -> str:
        return self.merchant.tmn_code

    @property
    def outcome(self) -> Outcome:
        if self.response_code is None:
            return Outcome.PENDING
        return Outcome.SUCCEEDED if self.transaction_status == "00" else Outcome.FAILED

    @property
    def finished(self) -> bool:
        return self.response_code is not None

    @property
    def refunded_amount(self) -> int:
        return sum(r.amount for r in self.refunds if r.transaction_status != REFUND_REFUSED)

    def refund(self, request_id: str) -> Refund | None:
        return next((r for r in self.refunds if r.request_id == request_id), None)

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.refunded_amount if self.outcome is Outcome.SUCCEEDED else 0

    def result_params(self) -> dict[str, str]:
        """The fields VNPay signs onto the return URL and sends as the IPN (empty ones are dropped later)."""
        if self.response_code is None or self.paid_at is None:
            raise ValueError("only a finished transaction has a result to report")
        return {
            "vnp_Amount": wire_amount(self.amount),
            "vnp_BankCode": self.bank_code or "",
            "vnp_BankTranNo": self.bank_tran_no or "",
            "vnp_CardType": self.card_type or "",
            "vnp_OrderInfo": self.order_info,
            "vnp_PayDate": format_vnp_date(self.paid_at),
            "vnp_ResponseCode": self.response_code,
            "vnp_TmnCode": self.tmn_code,
            "vnp_TransactionNo": self.transaction_no or NO_TRANSACTION_NO,
            "vnp_TransactionStatus": self.transaction_status,
            "vnp_TxnRef": self.txn_ref,
        }


@dataclass
class PaymentSession:
    """One visit to the payment page. Forms post back with this opaque token, never with the TxnRef."""

    token: str
    transaction: Transaction
    expires_at: datetime
    step: str = "card"  # card -> otp
    card_failures: int = 0
    card_number: str | None = None
    card_holder: str | None = None


class Store:
    def __init__(self, config: SimulatorConfig, clock: Callable[[], datetime] = now_vn) -> None:
        self.config = config
        self.clock = clock
        self.transactions: dict[tuple[str, str], Transaction] = {}
        self.sessions: dict[str, PaymentSession] = {}
        self._request_ids: dict[tuple[str, str], datetime] = {}
        # VNPay transaction numbers are 8-digit and only ever grow; start somewhere in that range.
        self._numbers = itertools.count(14_000_000 + secrets.randbelow(900_000))
        self._traces = itertools.count(2_000_000 + secrets.randbelow(900_000))

    def find(self, tmn_code: str, txn_ref: str) -> Transaction | None:
        return self.transactions.get((tmn_code, txn_ref))

    def open_transaction(self, request: PayRequest) -> Transaction:
        txn = Transaction(
            merchant=request.merchant,
            txn_ref=request.txn_ref,
            amount=request.amount,
            order_info=request.order_info,
            order_type=request.order_type,
            locale=request.locale,
            return_url=request.return_url,
            ip_addr=request.ip_addr,
            create_date=request.create_date,
            expire_at=request.expire_at,
            requested_bank_code=request.bank_code,
            created_at=self.clock(),
        )
        self.transactions[(txn.tmn_code, txn.txn_ref)] = txn
        return txn

    def open_session(self, txn: Transaction) -> PaymentSession:
        expires_at = self.clock() + timedelta(seconds=self.config.payment_page_timeout_seconds)
        if txn.expire_at is not None:
            expires_at = min(expires_at, txn.expire_at)
        session = PaymentSession(token=secrets.token_urlsafe(24), transaction=txn, expires_at=expires_at)
        self.sessions[session.token] = session
        return session

    def session(self, token: str) -> PaymentSession | None:
        return self.sessions.get(token)

    def next_transaction_no(self) -> str:
        return str(next(self._numbers))

    def next_bank_tran_no(self) -> str:
        return f"VNP{next(self._numbers)}"

    def next_trace(self) -> str:
        return str(next(self._traces))

    def claim_request_id(self, tmn_code: str, request_id: str) -> bool:
        """False when the merchant already used this vnp_RequestId inside the dedupe window."""
        now = self.clock()
        window = timedelta(seconds=self.config.request_id_window_seconds)
        for key in [k for k, seen in self._request_ids.items() if now - seen >= window]:
            del self._request_ids[key]
        key = (tmn_code, request_id)
        if key in self._request_ids:
            return False
        self._request_ids[key] = now
        return True
