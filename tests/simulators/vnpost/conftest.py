"""A VNPost simulator whose pushes land in an in-process fake partner, and helpers that speak MyVNPost's
wire format with the test's own code (never the adapter's)."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulators.vnpost import DEV_ACCOUNT, DEV_PUBLIC_KEY_PEM, SimulatorConfig, create_app
from simulators.vnpost.simulator_state import SimulatorState, simulator_of

HOST = "http://vnpost.test"
CALLBACK_URL = "http://gateway.test/callbacks/vnpost"
LOGIN = {"username": DEV_ACCOUNT.username, "password": DEV_ACCOUNT.password, "customerCode": DEV_ACCOUNT.customer_code}


def s10_ok(item: str) -> bool:
    """The test's own UPU S10 check: 2 letters, 8 digits, check digit (weights 8,6,4,2,3,5,9,7), VN."""
    if len(item) != 13 or not (item[:2].isalpha() and item[2:11].isdigit() and item[11:] == "VN"):
        return False
    total = sum(int(d) * w for d, w in zip(item[2:10], (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return int(item[10]) == {10: 0, 11: 5}.get(check, check)


def signature_ok(envelope: dict[str, str]) -> bool:
    key = serialization.load_pem_public_key(DEV_PUBLIC_KEY_PEM.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(
            base64.b64decode(envelope["SignData"]), envelope["Data"].encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


@dataclass
class Partner:
    """The gateway's /callbacks/vnpost: records each push, answers with the next of `statuses` (the last
    one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[dict[str, str]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == CALLBACK_URL
        self.received.append(json.loads(request.content))
        status = self.statuses[min(len(self.received), len(self.statuses)) - 1]
        return httpx.Response(status, json={"status": "OK" if status == 200 else "RETRY"})

    def events(self) -> list[dict[str, Any]]:
        """Every event of every push received, in the order received."""
        return [event for push in self.received for event in json.loads(push["Data"])]


@dataclass
class Sim:
    app: Any
    client: httpx.AsyncClient
    partner: Partner
    token: str = ""

    @property
    def state(self) -> SimulatorState:
        return simulator_of(self.app.state)

    async def login(self) -> str:
        r = await self.client.post("/customer-partner/GetAccessToken", json=LOGIN)
        assert r.status_code == 200
        self.token = r.json()["token"]
        return self.token

    async def call(self, path: str, body: Any = None, method: str = "POST", **params: str) -> httpx.Response:
        headers = {"token": self.token} if self.token else {}
        if method == "GET":
            return await self.client.get(f"/customer-partner/{path}", params=params, headers=headers)
        return await self.client.post(f"/customer-partner/{path}", content=json.dumps(body), headers=headers)

    async def book(self, **changes: Any) -> dict[str, Any]:
        r = await self.call("CreateOrder", order_body(**changes))
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer

    async def advance(self, original_id: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(f"/_sim/vnpost/orders/{original_id}/advance", json=body or {})

    async def drain(self) -> None:
        await self.state.pushes.drain()


def order_body(**changes: Any) -> dict[str, Any]:
    information: dict[str, Any] = {
        "senderName": "UBND phường Hoàn Kiếm",
        "senderPhone": "02438253536",
        "senderAddress": "126 Hàng Trống",
        "senderProvinceCode": "01",
        "senderProvinceName": "Thành phố Hà Nội",
        "senderDistrictName": None,
        "senderCommuneName": "Phường Hoàn Kiếm",
        "receiverName": "Nguyễn Thị Hằng",
        "receiverPhone": "0912345678",
        "receiverAddress": "12 Nguyễn Huệ",
        "receiverProvinceCode": "79",
        "receiverProvinceName": "Thành phố Hồ Chí Minh",
        "receiverCommuneName": "Phường Sài Gòn",
        "serviceCode": "ETN011",
        "saleOrderCode": f"shp_{secrets.token_hex(8)}",
        "contentNote": "Giấy chứng nhận đăng ký hộ kinh doanh",
        "weight": "350",
        "addonService": [{"code": "GTG026", "propValue": None}],
        "deliveryInstruction": "",
    }
    information.update(changes)
    return {"orderCreationStatus": 1, "type": "GUI", "informationOrder": information}


@pytest.fixture
def partner() -> Partner:
    return Partner()


@pytest.fixture
async def sim(partner: Partner) -> AsyncIterator[Sim]:
    app = create_app(
        SimulatorConfig(accounts=[DEV_ACCOUNT], callback_url=CALLBACK_URL, push_retry_intervals=(0, 0, 0)),
        push_transport=httpx.MockTransport(partner.handler),
    )
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as client:
        sim = Sim(app, client, partner)
        await sim.login()
        yield sim
