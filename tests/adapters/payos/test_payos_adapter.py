"""The payOS adapter against payOS's own payloads (as its documentation and SDK show them), mocked with respx."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
import respx
from payos._crypto import CryptoProvider

from adapters.payos.config import PayOSConfig
from adapters.payos.provider import PayOSProvider, order_code_for
from adapters.payos.requests import description
from adapters.payos.settings import SIMULATOR_CHECKSUM_KEY, PayOSSettings
from adapters.payos.wire import MAX_ORDER_CODE
from contracts.errors import InvalidSignature, ProviderRejected
from contracts.providers import Capability, CheckoutOrder, Inbound, ProviderOutcome, RefundOrder, TransactionRef
from gateway.ids import new_id

API = "https://api-merchant.payos.vn"
KEY = "a1dfd1fd7a02e56a50155b3419250535818d7e79defbab1128bfd78c28d75a38-test"
CONFIG = PayOSConfig(client_id="cid", api_key="akey", checksum_key=KEY, api_url=API)
SDK = CryptoProvider()
GMT7 = timezone(timedelta(hours=7))
ORDER = CheckoutOrder(
    reference="123",
    amount=3000,
    description="Lệ phí hồ sơ 000.00.12.H29-241123-0001",
    created_at=datetime(2026, 11, 23, 10, tzinfo=UTC),
    expires_at=datetime(2026, 11, 23, 10, 15, tzinfo=UTC),
    return_url="https://gw.example.vn/callbacks/payos/return",
    client_ip="113.160.1.2",
)
# payOS's documented answer to a payment request (its checkoutUrl, paymentLinkId and account).
CREATED = {
    "bin": "970422",
    "accountNumber": "113366668888",
    "accountName": "QUY VAC XIN PHONG CHONG COVID",
    "amount": 3000,
    "description": "Le phi ho so 0000012H2924",
    "orderCode": 123,
    "currency": "VND",
    "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
    "status": "PENDING",
    "expiredAt": 1795399200,
    "checkoutUrl": "https://pay.payos.vn/web/124c33293c43417ab7879e14c8d9eb18",
    "qrCode": "00020101021238570010A000000727012700069704220113VQRQ00000001QRIBFTTA530370454043000",
}
# payOS's documented webhook, as its SDK verifies it.
WEBHOOK_DATA = {
    "orderCode": 123,
    "amount": 3000,
    "description": "VQRIO123",
    "accountNumber": "12345678",
    "reference": "TF230204212323",
    "transactionDateTime": "2023-02-04 18:25:00",
    "currency": "VND",
    "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
    "code": "00",
    "desc": "Thành công",
    "counterAccountBankId": "",
    "counterAccountBankName": "",
    "counterAccountName": "",
    "counterAccountNumber": "",
    "virtualAccountName": "",
    "virtualAccountNumber": "",
}


def _answer(data: dict[str, object]) -> httpx.Response:
    return httpx.Response(
        200,
        json={"code": "00", "desc": "success", "data": data, "signature": SDK.create_signature_from_object(data, KEY)},
    )


def _webhook(data: dict[str, object]) -> Inbound:
    body = {"code": "00", "desc": "success", "success": True, "data": data, "signature": ""}
    body["signature"] = str(SDK.create_signature_from_object(data, KEY))
    return Inbound(method="POST", query="", body=json.dumps(body, ensure_ascii=False).encode())


@pytest.mark.anyio
async def test_a_checkout_is_a_signed_payment_request_and_payos_link() -> None:
    with respx.mock() as router:
        route = router.post(f"{API}/v2/payment-requests").mock(return_value=_answer(CREATED))
        checkout = await PayOSProvider(CONFIG).create_checkout(ORDER)
    sent = route.calls.last.request
    body = json.loads(sent.content)
    assert (sent.headers["x-client-id"], sent.headers["x-api-key"]) == ("cid", "akey")
    assert body["orderCode"] == 123 and body["amount"] == 3000
    assert body["description"] == "so 0000012H292411230001"
    assert body["returnUrl"] == body["cancelUrl"] == ORDER.return_url
    assert body["expiredAt"] == int(ORDER.expires_at.timestamp())
    assert body["signature"] == SDK.create_signature_of_payment_request(body, KEY)
    assert (checkout.url, checkout.qr_code, checkout.provider_order_id) == (
        CREATED["checkoutUrl"],
        CREATED["qrCode"],
        CREATED["paymentLinkId"],
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"code": "231", "desc": "Đơn thanh toán đã tồn tại", "data": None}),
        httpx.Response(200, json={"code": "00", "desc": "success", "data": CREATED, "signature": "0" * 64}),
        _answer({**CREATED, "amount": 3001}),
    ],
    ids=["order code taken", "answer not signed by payOS", "a link for another amount"],
)
async def test_a_checkout_payos_did_not_vouch_for_is_refused(answer: httpx.Response) -> None:
    with respx.mock() as router:
        router.post(f"{API}/v2/payment-requests").mock(return_value=answer)
        with pytest.raises((ProviderRejected, InvalidSignature)):
            await PayOSProvider(CONFIG).create_checkout(ORDER)


def test_payos_documented_webhook_reads_as_paid() -> None:
    result = PayOSProvider(CONFIG).parse_notification(_webhook(WEBHOOK_DATA))
    assert (result.reference, result.amount, result.outcome, result.transaction_id) == (
        "123",
        3000,
        ProviderOutcome.SUCCEEDED,
        "TF230204212323",
    )
    assert result.paid_at == datetime(2023, 2, 4, 18, 25, tzinfo=GMT7)
    assert result.codes["paymentLinkId"] == "124c33293c43417ab7879e14c8d9eb18"


def test_a_webhook_signed_with_another_key_is_refused() -> None:
    other = PayOSConfig(client_id="cid", api_key="akey", checksum_key="another key", api_url=API)
    with pytest.raises(InvalidSignature):
        PayOSProvider(other).parse_notification(_webhook(WEBHOOK_DATA))


@pytest.mark.anyio
async def test_a_paid_link_reads_as_succeeded_with_its_transfer() -> None:
    link = {
        "id": "124c33293c43417ab7879e14c8d9eb18",
        "orderCode": 123,
        "amount": 3000,
        "amountPaid": 3000,
        "amountRemaining": 0,
        "status": "PAID",
        "createdAt": "2023-02-04T18:20:00+07:00",
        "transactions": [
            {
                "reference": "TF230204212323",
                "amount": 3000,
                "accountNumber": "12345678",
                "description": "VQRIO123",
                "transactionDateTime": "2023-02-04T18:25:00+07:00",
                "virtualAccountName": None,
                "virtualAccountNumber": None,
                "counterAccountBankId": None,
                "counterAccountBankName": None,
                "counterAccountName": None,
                "counterAccountNumber": None,
            }
        ],
        "canceledAt": None,
        "cancellationReason": None,
    }
    ref = TransactionRef(reference="123", created_at=ORDER.created_at)
    with respx.mock() as router:
        router.get(f"{API}/v2/payment-requests/123").mock(return_value=_answer(link))
        result = await PayOSProvider(CONFIG).query(ref)
    assert (result.outcome, result.amount, result.transaction_id) == (ProviderOutcome.SUCCEEDED, 3000, "TF230204212323")
    assert result.paid_at == datetime(2023, 2, 4, 18, 25, tzinfo=GMT7)

    cancelled = {**link, "status": "CANCELLED", "amountPaid": 0, "transactions": [], "cancellationReason": "x"}
    with respx.mock() as router:
        route = router.post(f"{API}/v2/payment-requests/123/cancel").mock(return_value=_answer(cancelled))
        result = await PayOSProvider(CONFIG).cancel(ref, "x")
    sent = json.loads(route.calls.last.request.content)
    assert sent["signature"] == SDK.create_signature_from_object({"cancellationReason": "x"}, KEY)
    assert result.outcome is ProviderOutcome.FAILED


@pytest.mark.anyio
async def test_payos_makes_no_refunds() -> None:
    provider = PayOSProvider(CONFIG)
    assert Capability.REFUND not in provider.capabilities and Capability.CANCEL in provider.capabilities
    ref = TransactionRef(reference="123", created_at=ORDER.created_at)
    refund = RefundOrder("r1", ref, 1000, False, "ops", "x", ORDER.created_at)
    with respx.mock(), pytest.raises(ProviderRejected, match="no refund API"):
        await provider.refund(refund)


def test_an_order_code_is_a_safe_integer_from_the_payment_id() -> None:
    ids = [new_id("pay") for _ in range(200)]
    codes = [order_code_for(i) for i in ids]
    assert all(1 <= c <= MAX_ORDER_CODE for c in codes)
    assert len(set(codes)) == len(codes)
    assert [order_code_for(i) for i in ids] == codes
    provider = PayOSProvider(CONFIG)
    assert provider.reference_for(ids[0], ORDER.created_at) == str(codes[0])


def test_a_description_fits_25_ascii_characters() -> None:
    assert description("Lệ phí  Đăng ký hộ kinh doanh (HS-0001)") == "ky ho kinh doanh HS0001"
    assert description("Thanh toán") == "Thanh toan"
    assert description("x" * 100) == "x" * 25
    assert description("–") == "Thanh toan DVC"  # nothing a bank can carry


def test_settings_default_to_the_simulator_and_hide_the_keys() -> None:
    settings = PayOSSettings()
    assert settings.uses_simulator_secret()
    assert not PayOSSettings(checksum_key="production key").uses_simulator_secret()  # type: ignore[arg-type]
    config = settings.config()
    assert config.checksum_key == SIMULATOR_CHECKSUM_KEY
    assert SIMULATOR_CHECKSUM_KEY not in repr(config) and config.api_key not in repr(config)
