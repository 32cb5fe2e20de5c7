"""The simulator's MyVNPost partner API: token auth, fees, orders, cancellation and tracking."""

from __future__ import annotations

import json

import pytest

from simulators.vnpost import codes as simulator_codes
from tests.simulators.vnpost.conftest import LOGIN, Sim, order_body, s10_ok

pytestmark = pytest.mark.anyio


async def test_a_login_with_the_dev_account_gives_a_token_and_a_wrong_one_an_error_message(sim: Sim) -> None:
    assert len(sim.token) >= 32
    r = await sim.client.post("/customer-partner/GetAccessToken", json={**LOGIN, "password": "wrong"})
    assert r.status_code == 200  # a refused login is a 200 without a token (postal.md §2.1.1)
    assert r.json()["token"] is None and "không đúng" in r.json()["errorMessage"]


@pytest.mark.parametrize(
    ("path", "method"),
    [("ServicesCharge", "POST"), ("CreateOrder", "POST"), ("orderCancel", "POST"), ("orderTracking", "GET")],
)
async def test_every_call_without_a_good_token_is_401_with_a_message(sim: Sim, path: str, method: str) -> None:
    sim.token = "not-a-token"
    r = await sim.call(path, {}, method=method, originalId="1")
    assert r.status_code == 401 and r.json()["message"]


async def test_an_expired_token_is_refused_and_a_new_one_works(sim: Sim) -> None:
    r = await sim.client.post("/_sim/vnpost/tokens/expire")
    assert r.json() == {"expired": 1}
    assert (await sim.call("CreateOrder", order_body())).status_code == 401
    await sim.login()
    assert (await sim.call("CreateOrder", order_body())).status_code == 200


def _charge(
    weight: float, service: str = "CTN001", receiver: str = "Thành phố Hồ Chí Minh", **more: object
) -> dict[str, object]:
    data = {
        "senderProvinceName": "Thành phố Hà Nội",
        "senderDistrictName": None,
        "senderCommuneName": "Phường Hoàn Kiếm",
        "receiverProvinceName": receiver,
        "receiverDistrictName": None,
        "receiverCommuneName": "Phường Sài Gòn",
        "receiverNational": "VN",
        "receiverCity": None,
        "orgCodeAccept": None,
        "weight": weight,
        "serviceCode": service,
        "addonService": [],
        "additionRequest": [],
        "vehicle": "BO",
        **more,
    }
    return {"scope": 1, "customerCode": LOGIN["customerCode"], "data": data}


@pytest.mark.parametrize(
    ("weight", "service", "receiver", "main_fee"),
    [
        (100.0, "CTN001", "Thành phố Hà Nội", 8_000),
        (100.0, "CTN001", "Thành phố Hồ Chí Minh", 10_000),
        (500.0, "ETN011", "Thành phố Hồ Chí Minh", 26_000),
        (501.0, "ETN011", "thành phố hà nội ", 24_000),  # same province, however the name is cased
        (2000.0, "ETN013", "Thành phố Hồ Chí Minh", 160_000),
        (2001.0, "CTN001", "Thành phố Hồ Chí Minh", 42_500),  # one more 500 g step
        (3000.0, "CTN001", "Thành phố Hà Nội", 30_000),
    ],
)
async def test_the_fee_depends_on_weight_service_and_zone(
    sim: Sim, weight: float, service: str, receiver: str, main_fee: int
) -> None:
    r = await sim.call("ServicesCharge", _charge(weight, service, receiver))
    assert r.status_code == 200
    [row] = r.json()
    assert (row["mainFee"], row["vasfee"], row["totalFee"]) == (main_fee, 0, main_fee)


async def test_add_ons_are_charged(sim: Sim) -> None:
    addons = [
        {"code": "GTG026", "propValue": None},
        {"code": "GTG021", "propValue": "PROP0018:2000000"},
        {"code": "GTG071", "propValue": None},
        {"code": "GTG003", "propValue": None},
    ]
    [row] = (await sim.call("ServicesCharge", _charge(100.0, addonService=addons))).json()
    assert row["vasfee"] == 5_000 + 16_000 + 0 + 3_000  # pickup, 0.8 % of the COD, postage from recipient, proof


@pytest.mark.parametrize(
    "body",
    [
        _charge(100.0, "XYZ999"),
        _charge(0.0),
        _charge(30_001.0),
        _charge(100.5),
        _charge(100.0, addonService=[{"code": "GTG021", "propValue": "PROP0018:-5"}]),
        _charge(100.0, addonService=[{"code": "GTG999", "propValue": None}]),
        {**_charge(100.0), "customerCode": "SOMEONE"},
        {"scope": 1},
    ],
)
async def test_a_bad_fee_request_is_400_with_a_message(sim: Sim, body: dict[str, object]) -> None:
    r = await sim.call("ServicesCharge", body)
    assert r.status_code == 400 and r.json()["message"]


async def test_an_order_is_created_with_its_fee_and_no_item_number_yet(sim: Sim) -> None:
    answer = await sim.book(addonService=[{"code": "GTG026", "propValue": None}, {"code": "GTG003", "propValue": None}])
    assert answer["status"] == 1 and answer["itemCode"] is None
    assert answer["totalFee"] == 26_000 + 5_000 + 3_000
    assert isinstance(answer["originalID"], str) and answer["originalID"].isdigit()
    assert (answer["orgCodeCollect"], answer["orgCodeDelivery"]) == ("011000", "791000")


@pytest.mark.parametrize(
    "changes",
    [
        {"serviceCode": "PTN001"},
        {"weight": "abc"},
        {"weight": "40000"},
        {"receiverName": ""},
        {"senderPhone": None},
        {"addonService": [{"code": "GTG021", "propValue": "PROP0018:"}]},
        {"addonService": [{"code": "GTG026"}, {"code": "GTG026"}]},
        {"contentNote": "x" * 501},
        {"saleOrderCode": "x" * 51},
    ],
)
async def test_a_bad_order_is_400_with_a_message(sim: Sim, changes: dict[str, object]) -> None:
    r = await sim.call("CreateOrder", order_body(**changes))
    assert r.status_code == 400 and r.json()["message"]


async def test_an_order_code_is_taken_once(sim: Sim) -> None:
    await sim.book(saleOrderCode="shp_once")
    r = await sim.call("CreateOrder", order_body(saleOrderCode="shp_once"))
    assert r.status_code == 400 and "đã tồn tại" in r.json()["message"]


async def test_a_draft_and_other_types_are_refused(sim: Sim) -> None:
    assert (await sim.call("CreateOrder", {**order_body(), "orderCreationStatus": 0})).status_code == 400
    assert (await sim.call("CreateOrder", {**order_body(), "type": "NHAN"})).status_code == 400


async def test_bodies_that_are_not_json_or_too_large_are_refused(sim: Sim) -> None:
    headers = {"token": sim.token}
    r = await sim.client.post("/customer-partner/CreateOrder", content=b"{not json", headers=headers)
    assert r.status_code == 400
    big = json.dumps(order_body(contentNote="x" * 70_000))
    r = await sim.client.post("/customer-partner/CreateOrder", content=big, headers=headers)
    assert r.status_code == 413


async def test_an_order_not_yet_picked_up_is_cancelled_once(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    first = await sim.call("orderCancel", {"OriginalId": original_id})
    again = await sim.call("orderCancel", {"OriginalId": original_id})
    assert first.status_code == again.status_code == 200
    assert first.json()[0]["caseId"] == again.json()[0]["caseId"]
    assert first.json()[0]["status"] == simulator_codes.COLLECTION_CANCELLED
    await sim.drain()
    assert [e["status"] for e in sim.partner.events()] == [9]


async def test_an_order_the_post_office_cancelled_is_cancelled_for_the_partner_too(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    await sim.advance(original_id, {"to": "cancelled"})
    r = await sim.call("orderCancel", {"OriginalId": original_id})
    assert r.status_code == 200 and r.json()[0]["status"] == 9
    await sim.drain()
    assert [e["status"] for e in sim.partner.events()] == [9]  # no second cancellation event


async def test_an_order_picked_up_is_not_cancelled_and_an_unknown_one_is_404(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    await sim.advance(original_id)
    r = await sim.call("orderCancel", {"OriginalId": original_id})
    assert r.status_code == 400 and "không thể hủy" in r.json()["message"]
    assert (await sim.call("orderCancel", {"OriginalId": "000"})).status_code == 404


async def test_tracking_by_order_or_item_number(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    await sim.advance(original_id, {"to": "accepted"})
    by_id = (await sim.call("orderTracking", method="GET", originalId=original_id)).json()
    assert [e["status"] for e in by_id["events"]] == [1, 6, 7]
    assert by_id["status"] == 7 and by_id["statusName"] == "Bưu cục đã chấp nhận"
    by_item = (await sim.call("orderTracking", method="GET", itemCode=by_id["itemCode"])).json()
    assert by_item == by_id
    assert (await sim.call("orderTracking", method="GET", originalId="000")).status_code == 404


async def test_item_numbers_are_assigned_at_acceptance_and_are_valid_s10(sim: Sim) -> None:
    items = []
    for service in ["ETN011", "CTN001"] * 10:
        original_id = (await sim.book(serviceCode=service))["originalID"]
        events = (await sim.advance(original_id, {"to": "accepted"})).json()["events"]
        assert [e["itemCode"] is None for e in events] == [True, False]  # 6 picked up: none yet; 7: one
        items.append(events[-1]["itemCode"])
    assert all(s10_ok(item) for item in items)
    assert len(set(items)) == len(items)
    assert {item[:1] for item in items} == {"E", "C"}


def test_the_simulators_code_tables_are_the_same_as_the_adapters() -> None:
    from adapters.vnpost import codes

    assert simulator_codes.STATUS_NAMES == codes.STATUS_NAMES
    assert simulator_codes.FAILURE_REASONS == codes.FAILURE_REASONS
    assert simulator_codes.PROOF_OF_DELIVERY == codes.PROOF_OF_DELIVERY


def test_the_published_public_key_is_the_signing_keys_and_the_adapters_default() -> None:
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization

    from adapters.vnpost.settings import SIMULATOR_PUSH_PUBLIC_KEY
    from simulators.vnpost.keys import DEV_PRIVATE_KEY_PEM, DEV_PUBLIC_KEY_PEM

    private = serialization.load_pem_private_key(DEV_PRIVATE_KEY_PEM.encode(), password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public.decode().strip() == DEV_PUBLIC_KEY_PEM.strip() == SIMULATOR_PUSH_PUBLIC_KEY.strip()
    docs = (Path(__file__).resolve().parents[3] / "docs" / "simulators.md").read_text()
    assert DEV_PUBLIC_KEY_PEM.strip() in docs
