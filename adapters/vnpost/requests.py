"""Pure builders of what the gateway sends MyVNPost: the login, fee, order, cancel and tracking requests.

Field names and shapes follow what a working MyVNPost client sends (postal.md §2.1, §2.1.1): weights are
grams, a float in the fee request and a string in the order; fields the gateway has no value for are null.
"""

from __future__ import annotations

from typing import Any

from adapters.vnpost import codes
from adapters.vnpost.config import VNPostConfig
from contracts.shipping import BookingOrder, PostalAddress, QuoteRequest

TOKEN_PATH = "/customer-partner/GetAccessToken"  # noqa: S105 - a path, not a secret
QUOTE_PATH = "/customer-partner/ServicesCharge"
CREATE_PATH = "/customer-partner/CreateOrder"
CANCEL_PATH = "/customer-partner/orderCancel"
# UNVERIFIED: no public document names MyVNPost's tracking endpoint; this shape is the adapter's and the
# simulator's (a GET by the order's originalId, or by the S10 item number).
TRACKING_PATH = "/customer-partner/orderTracking"

SEND_NOW = 1  # orderCreationStatus: 1 sends the order for pickup, 0 would only save a draft
CONTENT_LIMIT = 500
NOTE_LIMIT = 500


def token_body(config: VNPostConfig) -> dict[str, Any]:
    return {"username": config.username, "password": config.password, "customerCode": config.customer_code}


def _addons(
    *, pickup_at_address: bool, cod_amount: int, postage_from_recipient: bool, proof_of_delivery: bool
) -> list[dict[str, Any]]:
    addons: list[dict[str, Any]] = []
    if pickup_at_address:
        addons.append({"code": codes.PICKUP_AT_ADDRESS, "propValue": None})
    if cod_amount:
        addons.append({"code": codes.COD, "propValue": f"{codes.COD_PROP}:{cod_amount}"})
    if postage_from_recipient:
        addons.append({"code": codes.POSTAGE_FROM_RECIPIENT, "propValue": None})
    if proof_of_delivery:
        addons.append({"code": codes.PROOF_OF_DELIVERY, "propValue": None})
    return addons


def _place(prefix: str, address: PostalAddress) -> dict[str, Any]:
    # MyVNPost still names a district; since July 2025 most addresses have none (the ward is enough).
    return {
        f"{prefix}ProvinceName": address.province_name,
        f"{prefix}DistrictName": address.district_name,
        f"{prefix}CommuneName": address.ward_name,
    }


def quote_body(config: VNPostConfig, request: QuoteRequest) -> dict[str, Any]:
    return {
        "scope": 1,
        "customerCode": config.customer_code,
        "data": {
            **_place("sender", request.sender),
            **_place("receiver", request.recipient),
            "receiverNational": "VN",
            "receiverCity": None,
            "orgCodeAccept": None,
            "weight": float(request.parcel.weight_grams),
            "serviceCode": request.service,
            "addonService": _addons(
                pickup_at_address=request.pickup_at_address,
                cod_amount=request.cod_amount,
                postage_from_recipient=request.postage_from_recipient,
                proof_of_delivery=False,
            ),
            "additionRequest": [],
            "vehicle": "BO",
        },
    }


def _party(prefix: str, address: PostalAddress) -> dict[str, Any]:
    return {
        f"{prefix}Name": address.name,
        f"{prefix}Phone": address.phone,
        f"{prefix}Address": address.line,
        f"{prefix}ProvinceCode": address.province_code,
        **_place(prefix, address),
        f"{prefix}DistrictCode": None,
        f"{prefix}CommuneCode": address.ward_code,
    }


def create_body(order: BookingOrder) -> dict[str, Any]:
    parcel = order.parcel
    information = {
        **_party("sender", order.sender),
        "senderMail": order.sender.email,
        **_party("receiver", order.recipient),
        "receiverEmail": order.recipient.email,
        "serviceCode": order.service,
        "saleOrderCode": order.reference,
        "contentNote": order.contents[:CONTENT_LIMIT],
        "weight": str(parcel.weight_grams),
        "width": parcel.width_cm,
        "length": parcel.length_cm,
        "height": parcel.height_cm,
        "addonService": _addons(
            pickup_at_address=order.pickup_at_address,
            cod_amount=order.cod_amount,
            postage_from_recipient=order.postage_from_recipient,
            proof_of_delivery=order.proof_of_delivery,
        ),
        "additionRequest": [],
        "orgCodeCollect": None,
        "orgCodeAccept": None,
        "vehicle": "BO",
        "sendType": "1",
        "deliveryTime": "N",
        "deliveryRequire": "1",
        "deliveryInstruction": order.note[:NOTE_LIMIT],
        "isBroken": 0,
    }
    return {"orderCreationStatus": SEND_NOW, "type": "GUI", "informationOrder": information}


def cancel_body(carrier_order_id: str) -> dict[str, Any]:
    return {"OriginalId": carrier_order_id}


def tracking_by_reference(reference: str) -> dict[str, str]:
    """orderTracking by our own order code (saleOrderCode). UNVERIFIED, like the endpoint itself."""
    return {"saleOrderCode": reference}


def tracking_params(carrier_order_id: str, item_number: str | None) -> dict[str, str]:
    if carrier_order_id:
        return {"originalId": carrier_order_id}
    if item_number:
        return {"itemCode": item_number}
    raise ValueError("tracking needs the order's originalId or its item number")
