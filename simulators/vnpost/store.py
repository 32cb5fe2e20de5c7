"""What the simulator remembers: tokens, orders with their events, and the pushes sent of them."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .codes import ACCEPTED, CREATED, SCENARIOS, STATUS_NAMES
from .config import Account
from .signing import s10

VIETNAM = timezone(timedelta(hours=7), "GMT+7")
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
# Codes before the post office has the item: no item number yet.
BEFORE_ACCEPTANCE = frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9})


def vietnam_now() -> datetime:
    return datetime.now(VIETNAM).replace(microsecond=0)


def wire_time(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime(TIME_FORMAT)


@dataclass
class Event:
    original_id: str
    order_code: str
    item_code: str | None
    status: int
    post_office_code: str
    event_time: datetime
    cause_code: str | None = None
    cause_name: str | None = None
    postman: str | None = None
    cod_amount: int | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "originalId": self.original_id,
            "orderCode": self.order_code,
            "itemCode": self.item_code,
            "status": self.status,
            "statusName": STATUS_NAMES[self.status],
            "postOfficeCode": self.post_office_code,
            "causeCode": self.cause_code,
            "causeName": self.cause_name,
            "eventTime": wire_time(self.event_time),
            "postman": self.postman,
            "codAmount": self.cod_amount,
        }


@dataclass
class Attempt:
    number: int
    kind: str  # push, retry, duplicate, manual
    http_status: int | None = None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.http_status == 200


@dataclass
class Push:
    number: int
    original_id: str
    data: str  # the signed Data text, the same on every attempt
    statuses: list[int]
    attempts: list[Attempt] = field(default_factory=list)
    acknowledged: bool = False
    last_envelope: dict[str, str] | None = None


@dataclass
class Order:
    account: Account
    original_id: str
    sale_order_code: str
    service: str
    information: dict[str, Any]  # informationOrder as sent
    weight_grams: int
    addons: dict[str, int | None]
    main_fee: int
    addon_fee: int
    office_collect: str
    office_delivery: str
    created_at: datetime
    status: int = CREATED
    item_code: str | None = None
    scenario: str = "delivered"
    step: int = 0  # the next step of the scenario
    case_id: str | None = None
    events: list[Event] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)

    @property
    def total_fee(self) -> int:
        return self.main_fee + self.addon_fee

    @property
    def cod_amount(self) -> int:
        return self.addons.get("GTG021") or 0

    def remaining(self) -> tuple[tuple[int, str | None], ...]:
        return SCENARIOS[self.scenario][self.step :]

    def created_answer(self) -> dict[str, Any]:
        return {
            "originalID": self.original_id,
            "saleOrderCode": self.sale_order_code,
            "status": self.status,
            "totalFee": self.total_fee,
            "mainFee": self.main_fee,
            "vasFee": self.addon_fee,
            "itemCode": self.item_code,
            "orgCodeCollect": self.office_collect,
            "orgCodeDelivery": self.office_delivery,
        }


class Store:
    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.by_sale_order: dict[tuple[str, str], Order] = {}  # (customerCode, saleOrderCode)
        self.tokens: dict[str, tuple[Account, float]] = {}  # token -> (account, expires at, monotonic)
        self._order_numbers = itertools.count(secrets.randbelow(900_000) * 10 + 1)
        self._serials = itertools.count(10_000_000 + secrets.randbelow(80_000_000))
        self._pushes = itertools.count(1)

    def issue_token(self, account: Account, ttl: float) -> str:
        token = secrets.token_urlsafe(32)
        self.tokens[token] = (account, time.monotonic() + ttl)
        return token

    def account_of(self, token: str | None) -> Account | None:
        found = self.tokens.get(token or "")
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    def expire_tokens(self) -> int:
        count = len(self.tokens)
        self.tokens.clear()
        return count

    def new_original_id(self, today: datetime) -> str:
        return f"{today:%y%m%d}{next(self._order_numbers):07d}"

    def add(self, order: Order) -> None:
        self.orders[order.original_id] = order
        self.by_sale_order[(order.account.customer_code, order.sale_order_code)] = order

    def find(self, original_id: str | None = None, item_code: str | None = None) -> Order | None:
        if original_id:
            return self.orders.get(original_id)
        return next((o for o in self.orders.values() if item_code and o.item_code == item_code), None)

    def next_push_number(self) -> int:
        return next(self._pushes)

    def record(self, order: Order, status: int, cause: str | None, cause_name: str | None) -> Event:
        """A new event of the order: its time strictly after the last one, an item number from acceptance."""
        if status not in BEFORE_ACCEPTANCE and order.item_code is None:
            # EMS-class services get an E? indicator, the others C? (parcel post), both VN (postal.md §3.1).
            indicator = "EB" if order.service.startswith("E") else "CB"
            order.item_code = s10(indicator, next(self._serials))
        moment = vietnam_now()
        if order.events and moment <= order.events[-1].event_time:
            moment = order.events[-1].event_time + timedelta(seconds=1)
        office = order.office_collect if status in BEFORE_ACCEPTANCE or status == ACCEPTED else order.office_delivery
        event = Event(
            original_id=order.original_id,
            order_code=order.sale_order_code,
            item_code=order.item_code,
            status=status,
            post_office_code=office,
            event_time=moment,
            cause_code=cause,
            cause_name=cause_name,
            postman=None if status in {1, 9} else f"Bưu tá {office}",
            cod_amount=order.cod_amount if status in {14, 21} and order.cod_amount else None,
        )
        order.status = status
        order.events.append(event)
        return event
