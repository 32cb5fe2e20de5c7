"""The simulator's payment links, in memory."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .config import Merchant

GMT7 = timezone(timedelta(hours=7))


def now_vn() -> datetime:
    return datetime.now(GMT7).replace(microsecond=0)


@dataclass
class Transfer:
    """One bank transfer into the link's account."""

    reference: str
    amount: int
    at: datetime

    def as_listed(self, link: Link) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "amount": self.amount,
            "accountNumber": link.merchant.account_number,
            "description": link.transfer_content,
            "transactionDateTime": self.at.isoformat(),
            "virtualAccountName": None,
            "virtualAccountNumber": None,
            "counterAccountBankId": None,
            "counterAccountBankName": None,
            "counterAccountName": None,
            "counterAccountNumber": None,
        }


@dataclass
class WebhookAttempt:
    number: int
    kind: str
    url: str
    http_status: int | None = None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


@dataclass
class Link:
    merchant: Merchant
    id: str
    order_code: int
    amount: int
    description: str
    return_url: str
    cancel_url: str
    created_at: datetime
    expired_at: int | None
    qr_code: str
    status: str = "PENDING"
    transfers: list[Transfer] = field(default_factory=list)
    canceled_at: datetime | None = None
    cancellation_reason: str | None = None
    webhook_attempts: list[WebhookAttempt] = field(default_factory=list)
    webhook_acknowledged: bool = False
    webhook_dropped: bool = False

    @property
    def transfer_content(self) -> str:
        # What the citizen's bank writes in the transfer: payOS prefixes a code of its own.
        return f"CS{self.id[:6].upper()} {self.description}"

    @property
    def paid(self) -> int:
        return sum(t.amount for t in self.transfers)

    def refresh(self, now: datetime) -> None:
        if self.status == "PENDING" and self.expired_at is not None and now.timestamp() > self.expired_at:
            self.status = "EXPIRED"

    def as_link(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "orderCode": self.order_code,
            "amount": self.amount,
            "amountPaid": self.paid,
            "amountRemaining": max(self.amount - self.paid, 0),
            "status": self.status,
            "createdAt": self.created_at.isoformat(),
            "transactions": [t.as_listed(self) for t in self.transfers],
            "canceledAt": None if self.canceled_at is None else self.canceled_at.isoformat(),
            "cancellationReason": self.cancellation_reason,
        }

    def webhook_data(self, transfer: Transfer) -> dict[str, Any]:
        return {
            "orderCode": self.order_code,
            "amount": transfer.amount,
            "description": self.transfer_content,
            "accountNumber": self.merchant.account_number,
            "reference": transfer.reference,
            "transactionDateTime": transfer.at.strftime("%Y-%m-%d %H:%M:%S"),
            "currency": "VND",
            "paymentLinkId": self.id,
            "code": "00",
            "desc": "success",
            "counterAccountBankId": "",
            "counterAccountBankName": "",
            "counterAccountName": None,
            "counterAccountNumber": None,
            "virtualAccountName": "",
            "virtualAccountNumber": "",
        }


class Store:
    def __init__(self) -> None:
        self.by_id: dict[str, Link] = {}
        self.by_code: dict[tuple[str, int], Link] = {}

    def add(self, link: Link) -> None:
        self.by_id[link.id] = link
        self.by_code[(link.merchant.client_id, link.order_code)] = link

    def find(self, merchant: Merchant, key: str) -> Link | None:
        """A link by its orderCode or its paymentLinkId, as payOS's API takes either."""
        link = self.by_id.get(key)
        if link is not None and link.merchant.client_id == merchant.client_id:
            return link
        if key.isascii() and key.isdigit() and len(key) <= 16:
            return self.by_code.get((merchant.client_id, int(key)))
        return None

    def by_order_code(self, order_code: int) -> list[Link]:
        return [link for (_, code), link in self.by_code.items() if code == order_code]


def new_link_id() -> str:
    return secrets.token_hex(16)


def new_bank_reference() -> str:
    return "FT" + "".join(secrets.choice("0123456789") for _ in range(14))
