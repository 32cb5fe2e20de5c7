"""What the simulator remembers: orders by (partnerCode, orderId), their refunds, and the IPNs sent."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .codes import EXPIRED, PENDING
from .config import Merchant


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Delivery:
    number: int
    kind: str  # notify, retry, duplicate, stale, manual
    result_code: int
    http_status: int | None = None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.http_status == 204


@dataclass
class Refund:
    order_id: str
    request_id: str
    amount: int
    trans_id: int
    result_code: int
    created_time: int
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class Order:
    merchant: Merchant
    order_id: str
    request_id: str
    amount: int
    order_info: str
    redirect_url: str
    ipn_url: str
    request_type: str
    extra_data: str
    token: str
    created: dict[str, Any]  # the create answer, for a repeated requestId
    expires_ms: int  # when the link lapses (orderExpireTime after the create): resultCode 1005 after it
    result_code: int = PENDING
    trans_id: int = 0
    pay_type: str = ""
    response_time: int = 0
    refunds: list[Refund] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    acknowledged: bool = False

    @property
    def final(self) -> bool:
        return self.result_code not in {PENDING, 7000, 7002, 8000}

    def lapse(self, now: int) -> None:
        """An order the citizen never paid is expired (1005) once its orderExpireTime has passed."""
        if self.result_code == PENDING and now >= self.expires_ms:
            self.result_code, self.response_time = EXPIRED, now

    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds if r.result_code == 0)


class Store:
    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], Order] = {}
        self.by_token: dict[str, Order] = {}
        self.refunds: dict[tuple[str, str], Refund] = {}  # by (partnerCode, refund orderId)
        self.request_ids: dict[tuple[str, str], str] = {}  # (partnerCode, requestId) -> orderId
        self._trans_ids = itertools.count(4_088_878_653 + secrets.randbelow(1_000_000) * 1000)

    def new_trans_id(self) -> int:
        return next(self._trans_ids)

    def order_id_taken(self, partner_code: str, order_id: str) -> bool:
        return (partner_code, order_id) in self.orders or (partner_code, order_id) in self.refunds

    def add(self, order: Order) -> None:
        self.orders[(order.merchant.partner_code, order.order_id)] = order
        self.by_token[order.token] = order
        self.request_ids[(order.merchant.partner_code, order.request_id)] = order.order_id

    def find(self, partner_code: str, order_id: str) -> Order | None:
        return self.orders.get((partner_code, order_id))

    def by_trans_id(self, partner_code: str, trans_id: int) -> Order | None:
        return next(
            (o for o in self.orders.values() if o.merchant.partner_code == partner_code and o.trans_id == trans_id),
            None,
        )
