"""What the adapter sends MyVNPost, field by field, as a working MyVNPost client sends it (postal.md §2.1.1)."""

from __future__ import annotations

from adapters.vnpost import requests
from adapters.vnpost.config import VNPostConfig
from contracts.shipping import BookingOrder, Parcel, QuoteRequest, ShipmentKind
from tests.postal_examples import AGENCY, CITIZEN

ORDER = BookingOrder(
    reference="shp_01JE8Q3T9W0000000000000000",
    kind=ShipmentKind.RESULT_DELIVERY,
    sender=AGENCY,
    recipient=CITIZEN,
    parcel=Parcel(weight_grams=350),
    service="ETN011",
    contents="Hồ sơ 000.00.12.H29-241123-0001: Giấy chứng nhận đăng ký hộ kinh doanh",
    pickup_at_address=True,
    cod_amount=50_000,
    postage_from_recipient=True,
    note="Gọi trước khi phát",
)


def test_the_login_sends_the_account(config: VNPostConfig) -> None:
    assert requests.token_body(config) == {
        "username": config.username,
        "password": config.password,
        "customerCode": config.customer_code,
    }


def test_a_quote_sends_grams_as_a_float_and_names_not_codes(config: VNPostConfig) -> None:
    body = requests.quote_body(config, QuoteRequest(AGENCY, CITIZEN, Parcel(weight_grams=500), "CTN001"))
    assert body["scope"] == 1 and body["customerCode"] == config.customer_code
    data = body["data"]
    assert data["weight"] == 500.0 and isinstance(data["weight"], float)
    assert (data["senderProvinceName"], data["receiverCommuneName"]) == ("Thành phố Hà Nội", "Phường Sài Gòn")
    assert data["senderDistrictName"] is None  # no district since July 2025
    assert (data["receiverNational"], data["receiverCity"], data["orgCodeAccept"], data["vehicle"]) == (
        "VN",
        None,
        None,
        "BO",
    )
    assert data["addonService"] == []


def test_an_order_carries_pickup_cod_postage_from_recipient_and_proof_of_delivery() -> None:
    body = requests.create_body(ORDER)
    assert (body["orderCreationStatus"], body["type"]) == (1, "GUI")
    info = body["informationOrder"]
    assert info["weight"] == "350"  # a string in CreateOrder
    assert (info["width"], info["length"], info["height"]) == (None, None, None)
    assert info["saleOrderCode"] == ORDER.reference
    assert info["addonService"] == [
        {"code": "GTG026", "propValue": None},
        {"code": "GTG021", "propValue": "PROP0018:50000"},
        {"code": "GTG071", "propValue": None},
        {"code": "GTG003", "propValue": None},
    ]
    assert (info["receiverName"], info["receiverPhone"], info["receiverEmail"]) == (
        "Nguyễn Thị Hằng",
        "0912345678",
        "hang@example.vn",
    )
    assert (info["senderProvinceCode"], info["receiverCommuneCode"], info["senderDistrictCode"]) == (
        "01",
        "26734",
        None,
    )
    assert (info["sendType"], info["deliveryTime"], info["deliveryRequire"], info["isBroken"]) == ("1", "N", "1", 0)
    assert info["deliveryInstruction"] == "Gọi trước khi phát"


def test_an_order_without_add_ons_sends_none() -> None:
    from dataclasses import replace

    plain = replace(ORDER, pickup_at_address=False, cod_amount=0, postage_from_recipient=False, proof_of_delivery=False)
    assert requests.create_body(plain)["informationOrder"]["addonService"] == []


def test_cancel_and_tracking_requests() -> None:
    assert requests.cancel_body("2612050000123") == {"OriginalId": "2612050000123"}
    assert requests.tracking_params("2612050000123", "EB123456785VN") == {"originalId": "2612050000123"}
    assert requests.tracking_params("", "EB123456785VN") == {"itemCode": "EB123456785VN"}
