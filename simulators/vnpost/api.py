"""MyVNPost's partner API at the simulator's root: /customer-partner/GetAccessToken, ServicesCharge,
CreateOrder, orderCancel and orderTracking, as a MyVNPost client expects them (postal.md §2.1, §2.1.1).

Success is HTTP 200 with JSON; an error is a JSON object with `message` (a refused login is HTTP 200 with
`errorMessage` and no token); a call without a good `token` header is HTTP 401.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from typing import Any

from litestar import Request, Response, get, post

from .codes import ADDONS, CANCELLABLE, COD, COD_PROP, COLLECTION_CANCELLED, SERVICES
from .config import Account
from .fees import MAX_WEIGHT_GRAMS, addon_fee, main_fee
from .simulator_state import SimulatorState, simulator_of
from .store import Order, vietnam_now

PREFIX = "/customer-partner"
MAX_BODY = 64 * 1024
MAX_TEXT = 500
MAX_ADDONS = 10
MAX_COD = 100_000_000
DIGITS = re.compile(r"[0-9]{1,9}")


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


def _json(body: Any, status: int = 200) -> Response[bytes]:
    return Response(json.dumps(body, ensure_ascii=False).encode(), status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response[bytes]:
    return _json({"message": message}, status)


async def _read(request: Request[Any, Any, Any]) -> tuple[SimulatorState, Any]:
    """The simulator and the call's JSON body, after the faults in force."""
    sim = simulator_of(request.app.state)
    if sim.faults.api_delay_ms:
        await asyncio.sleep(sim.faults.api_delay_ms / 1000)
    if sim.faults.take_http_5xx():
        raise Refusal(503, "Service Unavailable (fault)")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Refusal(413, "Dữ liệu gửi lên quá lớn")
    try:
        return sim, json.loads(raw) if raw.strip() else None
    except ValueError:
        raise Refusal(400, "Dữ liệu không phải JSON") from None


def _account(sim: SimulatorState, request: Request[Any, Any, Any]) -> Account:
    account = sim.store.account_of(request.headers.get("token"))
    if account is None:
        raise Refusal(401, "Token không hợp lệ hoặc đã hết hạn")
    return account


def _text(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise Refusal(400, f"Thiếu {name}")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise Refusal(400, f"{name} không hợp lệ")
    return value


def _weight(value: object) -> int:
    # The fee request sends grams as a number (500.0), the order as a string ("1000") (§2.1.1).
    text = value if isinstance(value, str) else ""
    number = isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()
    if not (DIGITS.fullmatch(text) or number):
        raise Refusal(400, "weight không hợp lệ")
    grams = int(value)  # type: ignore[call-overload]
    if not 0 < grams <= MAX_WEIGHT_GRAMS:
        raise Refusal(400, f"Khối lượng phải từ 1 đến {MAX_WEIGHT_GRAMS} gram")
    return grams


def _addons(value: object) -> dict[str, int | None]:
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) > MAX_ADDONS:
        raise Refusal(400, "addonService không hợp lệ")
    addons: dict[str, int | None] = {}
    for item in value:
        code = item.get("code") if isinstance(item, dict) else None
        if code not in ADDONS or code in addons:
            raise Refusal(400, f"Dịch vụ cộng thêm {code!r} không hợp lệ")
        prop = item.get("propValue")
        if code == COD:
            prefix = f"{COD_PROP}:"
            amount = prop[len(prefix) :] if isinstance(prop, str) and prop.startswith(prefix) else ""
            if not DIGITS.fullmatch(amount) or not 0 < int(amount) <= MAX_COD:
                raise Refusal(400, f"Số tiền thu hộ không hợp lệ ({COD_PROP})")
            addons[code] = int(amount)
        else:
            addons[code] = None
    return addons


def _service(data: dict[str, Any]) -> str:
    service = data.get("serviceCode")
    if service not in SERVICES:
        raise Refusal(400, f"Mã dịch vụ {service!r} không hợp lệ")
    assert isinstance(service, str)
    return service


def _same_province(data: dict[str, Any]) -> bool:
    sender = str(_text(data, "senderProvinceName")).strip().casefold()
    return sender == str(_text(data, "receiverProvinceName")).strip().casefold()


def _office(province_code: object) -> str:
    # A post office code of the province: the simulator's own, 6 digits like VNPost's POS codes.
    code = str(province_code or "")
    return f"{code.zfill(2)[-2:]}1000" if code.isdigit() else "101000"


def refusal_answer(_: Request[Any, Any, Any], refusal: Refusal) -> Response[bytes]:
    """A Refusal as MyVNPost answers errors: its status, and a JSON object with `message`."""
    return _error(refusal.status, refusal.message)


@post(f"{PREFIX}/GetAccessToken", status_code=200)
async def get_access_token(request: Request[Any, Any, Any]) -> Response[bytes]:
    sim, body = await _read(request)
    body = body if isinstance(body, dict) else {}
    account = sim.config.account(body.get("username"), body.get("password"), body.get("customerCode"))
    if account is None:
        return _json({"token": None, "errorMessage": "Tên đăng nhập, mật khẩu hoặc mã khách hàng không đúng"})
    return _json({"token": sim.store.issue_token(account, sim.config.token_ttl_seconds)})


@post(f"{PREFIX}/ServicesCharge", status_code=200)
async def services_charge(request: Request[Any, Any, Any]) -> Response[bytes]:
    sim, body = await _read(request)
    account = _account(sim, request)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise Refusal(400, "Thiếu data")
    if body.get("customerCode") != account.customer_code:
        raise Refusal(400, "customerCode không khớp với tài khoản")
    data = body["data"]
    service = _service(data)
    fee = main_fee(service, _weight(data.get("weight")), _same_province(data))
    vas = addon_fee(_addons(data.get("addonService")))
    return _json([{"serviceCode": service, "mainFee": fee, "vasfee": vas, "totalFee": fee + vas}])


@post(f"{PREFIX}/CreateOrder", status_code=200)
async def create_order(request: Request[Any, Any, Any]) -> Response[bytes]:
    sim, body = await _read(request)
    account = _account(sim, request)
    if not isinstance(body, dict) or not isinstance(body.get("informationOrder"), dict):
        raise Refusal(400, "Thiếu informationOrder")
    if body.get("orderCreationStatus") != 1 or body.get("type") != "GUI":
        raise Refusal(400, "Chỉ nhận orderCreationStatus 1 (gửi ngay) và type GUI")
    info: dict[str, Any] = body["informationOrder"]
    for name in ("senderName", "senderPhone", "senderAddress", "receiverName", "receiverPhone", "receiverAddress"):
        _text(info, name)
    for name in ("contentNote", "deliveryInstruction", "senderCommuneName", "receiverCommuneName"):
        _text(info, name, required=False)
    sale_order_code = _text(info, "saleOrderCode")
    assert sale_order_code is not None
    if len(sale_order_code) > 50:
        raise Refusal(400, "saleOrderCode dài quá 50 ký tự")
    if (account.customer_code, sale_order_code) in sim.store.by_sale_order:
        raise Refusal(400, f"Mã đơn hàng {sale_order_code} đã tồn tại")
    service = _service(info)
    weight = _weight(info.get("weight"))
    addons = _addons(info.get("addonService"))
    now = vietnam_now()
    order = Order(
        account=account,
        original_id=sim.store.new_original_id(now),
        sale_order_code=sale_order_code,
        service=service,
        information=info,
        weight_grams=weight,
        addons=addons,
        main_fee=main_fee(service, weight, _same_province(info)),
        addon_fee=addon_fee(addons),
        office_collect=_office(info.get("senderProvinceCode")),
        office_delivery=_office(info.get("receiverProvinceCode")),
        created_at=now,
        scenario="cod" if COD in addons else "delivered",
    )
    sim.store.add(order)
    sim.store.record(order, order.status, None, None)
    return _json(order.created_answer())


@post(f"{PREFIX}/orderCancel", status_code=200)
async def order_cancel(request: Request[Any, Any, Any]) -> Response[bytes]:
    sim, body = await _read(request)
    account = _account(sim, request)
    original_id = body.get("OriginalId") if isinstance(body, dict) else None
    order = sim.store.find(str(original_id)) if isinstance(original_id, str | int) else None
    if order is None or order.account != account:
        raise Refusal(404, f"Không tìm thấy đơn hàng {original_id}")
    if order.case_id is None:
        if order.status not in CANCELLABLE | {COLLECTION_CANCELLED}:
            raise Refusal(400, f"Đơn hàng ở trạng thái {order.status}, không thể hủy")
        order.case_id = f"HUY{secrets.randbelow(10**9):09d}"
        if order.status != COLLECTION_CANCELLED:  # cancelled already (by the post office): nothing more happens
            await sim.move(order, [(COLLECTION_CANCELLED, None)])
    answer = {"caseId": order.case_id, "originalId": order.original_id, "status": order.status, "message": "Đã hủy"}
    return _json([answer])


@get(f"{PREFIX}/orderTracking", status_code=200)
async def order_tracking(request: Request[Any, Any, Any]) -> Response[bytes]:
    """UNVERIFIED shape: MyVNPost publishes no tracking endpoint; this is the adapter's and the simulator's."""
    sim, _ = await _read(request)
    account = _account(sim, request)
    original_id, item_code = request.query_params.get("originalId"), request.query_params.get("itemCode")
    sale_order_code = request.query_params.get("saleOrderCode")
    if sale_order_code and not (original_id or item_code):
        # The partner's own order code: how a partner whose CreateOrder answer was lost finds the order.
        order = sim.store.by_sale_order.get((account.customer_code, sale_order_code[:50]))
    else:
        order = sim.store.find(original_id, item_code)
    if order is None or order.account != account:
        raise Refusal(404, "Không tìm thấy đơn hàng")
    last = order.events[-1]
    return _json(
        {
            "originalId": order.original_id,
            "itemCode": order.item_code,
            "saleOrderCode": order.sale_order_code,
            "totalFee": order.total_fee,
            "orgCodeCollect": order.office_collect,
            "orgCodeDelivery": order.office_delivery,
            "status": order.status,
            "statusName": last.wire()["statusName"],
            "events": [e.wire() for e in order.events],
        }
    )


API_HANDLERS = [get_access_token, services_charge, create_order, order_cancel, order_tracking]
