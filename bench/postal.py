"""The postal scenarios' set-up (bench/run.py measures them): shipments booked through the API with the
VNPost simulator, VNPost's signed status pushes, and a postal staff member's session for their reports.

Everything reaches the gateway over HTTP, as in production: the pushes are signed with the simulator's
published development key (its own signing code, simulators/vnpost), the key a development gateway holds
by default; the staff member logs in through the login form like a browser.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from simulators.vnpost.keys import DEV_PRIVATE_KEY_PEM
from simulators.vnpost.signing import sign_data
from simulators.vnpost.store import Event, wire_time

PUSH_PATH = "/callbacks/vnpost"
IN_TRANSIT = 10  # MyVNPost's "Đang vận chuyển"
STAFF_USERNAME = "bench.postal"
STAFF_PASSWORD = "mật khẩu của bench 2026"  # a throw-away account on a throw-away database
STAFF_REPORT = json.dumps({"status": "out_for_delivery"}).encode()
BOOKING_CONCURRENCY = 32
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

_AGENCY = {
    "name": "Bộ phận một cửa UBND phường Hoàn Kiếm",
    "phone": "02439260000",
    "line": "126 Hàng Trống",
    "province_code": "01",
    "ward_code": "00070",
}
_CITIZEN = {
    "name": "Nguyễn Văn An",
    "phone": "0912345678",
    "line": "5 Lý Thường Kiệt",
    "province_code": "01",
    "ward_code": "00070",
}


@dataclass(frozen=True)
class Booked:
    """A shipment the carrier booked: the gateway's id, the carrier's order and the office it belongs to."""

    id: str
    carrier_order_id: str
    item_number: str | None
    office_code: str


def shipment_body(n: int) -> dict[str, Any]:
    """A portal's request for the delivery of a result, the postage collected by the carrier (no payment)."""
    return {
        "kind": "result_delivery",
        "dossier_code": f"000.00.12.H29-261205-{n:05d}",
        "procedure": "Cấp bản sao trích lục hộ tịch",
        "sender": _AGENCY,
        "recipient": _CITIZEN,
        "parcel": {"weight_grams": 300},
        "documents": [{"title": "Trích lục khai sinh (bản sao)", "copies": 2}],
        "postage_mode": "cod",
    }


async def _book(base_url: str, api_key: str, first: int, count: int) -> tuple[list[Booked], list[int]]:
    booked: list[Booked] = []
    refused: list[int] = []
    numbers = iter(range(first, first + count))
    headers = {"Authorization": f"Bearer {api_key}"}

    async def worker(http: httpx.AsyncClient) -> None:
        for n in numbers:
            r = await http.post(
                "/v1/shipments", json=shipment_body(n), headers={**headers, "Idempotency-Key": f"bench-shp-{n}"}
            )
            body = r.json() if r.status_code == 201 else {}
            if body.get("booking") == "booked" and body.get("office_code") and body.get("carrier_order_id"):
                booked.append(Booked(body["id"], body["carrier_order_id"], body["item_number"], body["office_code"]))
            else:
                refused.append(r.status_code)

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        await asyncio.gather(*(worker(http) for _ in range(BOOKING_CONCURRENCY)))
    return booked, refused


def book(base_url: str, api_key: str, first: int, count: int) -> list[Booked]:
    """`count` shipments booked through `POST /v1/shipments` (numbered from `first`), each with the carrier."""
    booked, refused = asyncio.run(_book(base_url, api_key, first, count))
    if refused:
        raise RuntimeError(f"{len(refused)} of {count} shipments not booked; statuses {sorted(set(refused))}")
    return booked


def push_body(shipment: Booked, at: dt.datetime) -> bytes:
    """VNPost's push of one in-transit event of `shipment` at `at`, signed as the simulator signs it."""
    event = Event(
        original_id=shipment.carrier_order_id,
        order_code=shipment.id,
        item_code=shipment.item_number,
        status=IN_TRANSIT,
        post_office_code=shipment.office_code,
        event_time=at,
        postman=f"Bưu tá {shipment.office_code}",
    )
    data = json.dumps([event.wire()], ensure_ascii=False, separators=(",", ":"))
    envelope = {"Data": data, "SendDate": wire_time(at), "SignData": sign_data(DEV_PRIVATE_KEY_PEM, data)}
    return json.dumps(envelope, ensure_ascii=False).encode()


def pushes(shipments: list[Booked], first: int, count: int, since: dt.datetime) -> list[bytes]:
    """Pushes `first` to `first + count - 1`: push n is shipment n mod len(shipments)'s event at `since`
    plus n // len(shipments) seconds, so no two are the same event (carrier order, code, time) and each
    shipment's events come in time order."""
    return [
        push_body(shipments[n % len(shipments)], since + dt.timedelta(seconds=n // len(shipments)))
        for n in range(first, first + count)
    ]


@dataclass(frozen=True)
class StaffSession:
    cookie: str  # the Cookie header's value
    csrf_token: str

    def headers(self) -> list[tuple[str, str]]:
        return [("Cookie", self.cookie), ("X-CSRF-Token", self.csrf_token)]


def staff_login(base_url: str, username: str = STAFF_USERNAME, password: str = STAFF_PASSWORD) -> StaffSession:
    """Log in through /staff/login as a browser does (the form's double-submit token and cookie), then read
    the session's CSRF token from a page of /staff."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        form = http.get("/staff/login")
        form.raise_for_status()
        token = _csrf_of(form.text)
        r = http.post("/staff/login", data={"username": username, "password": password, "csrf_token": token})
        if r.status_code != 303:
            raise RuntimeError(f"staff login answered {r.status_code}")
        page = http.get("/staff/logout")  # the logout form carries the session's token
        page.raise_for_status()
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        return StaffSession(cookie, _csrf_of(page.text))


def _csrf_of(html: str) -> str:
    match = _CSRF_FIELD.search(html)
    if match is None:
        raise RuntimeError("the staff page has no CSRF token")
    return match.group(1)


def report_path(shipment: Booked) -> str:
    return f"/v1/shipments/{shipment.id}/events"
