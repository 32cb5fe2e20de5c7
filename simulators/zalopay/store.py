"""The simulator's memory: orders by app_trans_id, refunds by m_refund_id, and what each callback met."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .config import App

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

UNPAID = "unpaid"
PAID = "paid"
CANCELLED = "cancelled"
FAILED = "failed"


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def today_vn() -> str:
    return datetime.now(VN_TZ).strftime("%y%m%d")


@dataclass
class CallbackAttempt:
    number: int
    kind: str  # notify, retry, duplicate, manual
    http_status: int | None = None
    return_code: int | None = None
    return_message: str | None = None
    error: str | None = None


@dataclass
class Order:
    app: App
    app_trans_id: str
    app_user: str
    app_time: int
    amount: int
    item: str
    embed_data: str
    description: str
    callback_url: str
    redirect_url: str
    expires_at_ms: int
    bank_code: str = ""
    zp_trans_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    status: str = UNPAID
    zp_trans_id: int | None = None
    server_time: int | None = None
    channel: int = 38
    refunded: int = 0
    callbacks: list[CallbackAttempt] = field(default_factory=list)
    delivered: bool = False
    refused: bool = False  # the merchant answered -1 or another code that stops the callbacks

    def callback_data(self) -> str:
        """The callback's data text, fields in the order ZaloPay documents and prints them."""
        return json.dumps(
            {
                "app_id": self.app.app_id,
                "app_trans_id": self.app_trans_id,
                "app_time": self.app_time,
                "app_user": self.app_user,
                "amount": self.amount,
                "embed_data": self.embed_data,
                "item": self.item,
                "zp_trans_id": self.zp_trans_id,
                "server_time": self.server_time,
                "channel": self.channel,
                "merchant_user_id": "7ZMSl3nEg5sOUJzOLSoUFT8xKNQVaLOLXHB--8Eytqc",
                "user_fee_amount": 0,
                "discount_amount": 0,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def expired(self) -> bool:
        return self.status == UNPAID and now_ms() > self.expires_at_ms


@dataclass
class Refund:
    m_refund_id: str
    order: Order
    amount: int
    description: str
    refund_id: int
    return_code: int  # 1 refunded, 3 processing


class Store:
    def __init__(self) -> None:
        self.orders: dict[tuple[int, str], Order] = {}
        self.by_token: dict[str, Order] = {}
        self.by_zp_trans_id: dict[tuple[int, int], Order] = {}
        self.refunds: dict[tuple[int, str], Refund] = {}
        self._sequence = 0

    def next_number(self) -> int:
        """A ZaloPay-like id: yymmdd and a running number (zp_trans_id, refund_id)."""
        self._sequence += 1
        return int(f"{today_vn()}{self._sequence:09d}")

    def add(self, order: Order) -> None:
        self.orders[(order.app.app_id, order.app_trans_id)] = order
        self.by_token[order.zp_trans_token] = order

    def find(self, app_trans_id: str) -> Order | None:
        return next((o for (_, ref), o in self.orders.items() if ref == app_trans_id), None)

    def pay(self, order: Order) -> None:
        order.status = PAID
        order.zp_trans_id = self.next_number()
        order.server_time = now_ms()
        self.by_zp_trans_id[(order.app.app_id, order.zp_trans_id)] = order
