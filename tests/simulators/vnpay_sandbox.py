"""Test helpers that speak VNPay's wire format to a simulator wired to an in-process fake merchant."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
from litestar import Litestar

from adapters.vnpay.signing import (
    QUERYDR_REQUEST_FIELDS,
    REFUND_REQUEST_FIELDS,
    canonical_query,
    pipe_checksum,
    sign_query,
)
from simulators.vnpay import Merchant, SimulatorConfig
from simulators.vnpay.wire import format_vnp_date, now_vn

SANDBOX = "http://sandbox.test"
TMN_CODE = "TESTTMN1"
HASH_SECRET = "TESTSECRETTESTSECRETTESTSECRET12"
IPN_URL = "http://merchant.test/vnpay/ipn"
RETURN_URL = "https://merchant.test/vnpay/return"

Reply = tuple[int, bytes] | Callable[[], Awaitable[tuple[int, bytes]]]


def ack(rsp_code: str = "00", message: str = "Confirm Success") -> tuple[int, bytes]:
    return 200, json.dumps({"RspCode": rsp_code, "Message": message}).encode()


@dataclass
class FakeMerchant:
    """The merchant's IPN endpoint as a bare ASGI app: records each GET, answers from a script, then 00."""

    replies: list[Reply] = field(default_factory=list)
    received: list[dict[str, str]] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.received.append(dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True)))
        reply = self.replies.pop(0) if self.replies else ack()
        status, body = reply if isinstance(reply, tuple) else await reply()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


@dataclass
class Sandbox:
    app: Litestar
    client: httpx.AsyncClient
    merchant: FakeMerchant
    config: SimulatorConfig
    _request_ids: int = 0

    def pay_url(self, secret: str = HASH_SECRET, **overrides: str | None) -> str:
        params: dict[str, str] = {
            "vnp_Version": "2.1.0",
            "vnp_Command": "pay",
            "vnp_TmnCode": TMN_CODE,
            "vnp_Amount": "3500000",
            "vnp_CurrCode": "VND",
            "vnp_TxnRef": "HS0001",
            "vnp_OrderInfo": "Thanh toan le phi ho so HS0001",
            "vnp_OrderType": "250000",
            "vnp_Locale": "vn",
            "vnp_ReturnUrl": RETURN_URL,
            "vnp_IpAddr": "203.0.113.7",
            "vnp_CreateDate": format_vnp_date(now_vn()),
            "vnp_ExpireDate": format_vnp_date(now_vn() + timedelta(minutes=15)),
        }
        for key, value in overrides.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return f"/paymentv2/vpcpay.html?{canonical_query(params)}&vnp_SecureHash={sign_query(params, secret)}"

    async def open_payment(self, **overrides: str | None) -> httpx.Response:
        """The browser follows the merchant's payment URL; answers VNPay's redirect (not followed)."""
        return await self.client.get(self.pay_url(HASH_SECRET, **overrides))

    async def open_page(self, **overrides: str | None) -> tuple[str, dict[str, str]]:
        """Open a payment and load the card page; returns its HTML and the form actions by purpose."""
        started = await self.open_payment(**overrides)
        assert started.status_code == 302, started.text
        page = await self.client.get(started.headers["location"])
        assert page.status_code == 200, page.text
        return page.text, form_actions(page.text)

    async def settle(self, txn_ref: str = "HS0001", response_code: str = "00") -> dict[str, Any]:
        r = await self.client.post(f"/_sim/vnpay/transactions/{txn_ref}", json={"response_code": response_code})
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def transaction(self, txn_ref: str = "HS0001") -> dict[str, Any]:
        r = await self.client.get(f"/_sim/vnpay/transactions/{txn_ref}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def faults(self, **faults: Any) -> dict[str, Any]:
        r = await self.client.put("/_sim/vnpay/faults", json=faults)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def next_request_id(self) -> str:
        self._request_ids += 1
        return f"REQ{self._request_ids:06d}"

    def querydr_body(self, txn_ref: str = "HS0001", *, transaction_date: str, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "vnp_RequestId": self.next_request_id(),
            "vnp_Version": "2.1.0",
            "vnp_Command": "querydr",
            "vnp_TmnCode": TMN_CODE,
            "vnp_TxnRef": txn_ref,
            "vnp_OrderInfo": f"Truy van giao dich {txn_ref}",
            "vnp_TransactionDate": transaction_date,
            "vnp_CreateDate": format_vnp_date(now_vn()),
            "vnp_IpAddr": "10.0.0.5",
        }
        body.update(overrides)
        body.setdefault("vnp_SecureHash", pipe_checksum(body, QUERYDR_REQUEST_FIELDS, HASH_SECRET))
        return body

    def refund_body(
        self,
        amount_vnd: int,
        transaction_type: str,
        *,
        transaction_date: str,
        txn_ref: str = "HS0001",
        **overrides: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "vnp_RequestId": self.next_request_id(),
            "vnp_Version": "2.1.0",
            "vnp_Command": "refund",
            "vnp_TmnCode": TMN_CODE,
            "vnp_TransactionType": transaction_type,
            "vnp_TxnRef": txn_ref,
            "vnp_Amount": str(amount_vnd * 100),
            "vnp_OrderInfo": f"Hoan tien {txn_ref}",
            "vnp_TransactionNo": "0",
            "vnp_TransactionDate": transaction_date,
            "vnp_CreateBy": "can-bo-mot-cua",
            "vnp_CreateDate": format_vnp_date(now_vn()),
            "vnp_IpAddr": "10.0.0.5",
        }
        body.update(overrides)
        body.setdefault("vnp_SecureHash", pipe_checksum(body, REFUND_REQUEST_FIELDS, HASH_SECRET))
        return body

    async def api(self, body: Any) -> httpx.Response:
        return await self.client.post("/merchant_webapi/api/transaction", json=body)

    async def wait_for_ipns(self, count: int) -> list[dict[str, str]]:
        async def enough() -> bool:
            return len(self.merchant.received) >= count

        await eventually(enough)
        return self.merchant.received


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 2.0) -> None:
    """Wait for what background IPN tasks do, observed from outside as a real client would."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - the simulator offers no event to wait on, by design
            await asyncio.sleep(0.005)


_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def form_actions(page: str) -> dict[str, str]:
    """The POST targets on a payment page, keyed by what they are for."""
    actions = [html.unescape(a) for a in _ACTION.findall(page)]
    keyed: dict[str, str] = {}
    for action in actions:
        if "Cancel" in action:
            keyed["cancel"] = action
        elif "Confirm" in action:
            keyed["otp"] = action
        else:
            keyed["card"] = action
    return keyed


def asgi(app: Any) -> httpx.ASGITransport:
    # httpx types ASGI apps with plain mappings; Litestar and the fake merchant declare narrower ones.
    return httpx.ASGITransport(app=app)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(httpx.URL(url).query.decode(), keep_blank_values=True))


def make_config(**overrides: Any) -> SimulatorConfig:
    settings: dict[str, Any] = {
        "merchants": [Merchant(TMN_CODE, HASH_SECRET, IPN_URL, "Cổng DVC (test)")],
        "public_url": SANDBOX,
        # Tiny waits so retries happen within a test without sleeping real seconds.
        "ipn_retry_intervals": (0.01, 0.01, 0.01),
        "ipn_timeout": 0.2,
    }
    settings.update(overrides)
    return SimulatorConfig(**settings)
