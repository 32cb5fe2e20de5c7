from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from adapters.vnpay import codes, requests, responses, signing
from adapters.vnpay.config import VNPayConfig
from adapters.vnpay.wire import format_time, parse_time
from contracts.errors import InvalidSignature, ProviderRejected, ProviderUnavailable
from contracts.providers import CheckoutOrder, ProviderOutcome, RefundOrder, TransactionRef
from tests.adapters.vnpay.conftest import SECRET, signed_api_fixture, signed_query_fixture

CREATED = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)  # 17:00 in Hà Nội
ORDER = CheckoutOrder(
    reference="K3M5Q7ZX2B4D6F8H1J3L5N7P",
    amount=35000,
    description="Thanh toán phí, lệ phí hồ sơ 000.00.12.H29-241123-0001 (Đăng ký hộ tịch)",
    created_at=CREATED,
    expires_at=datetime(2026, 11, 23, 10, 15, 0, tzinfo=UTC),
    return_url="https://gw.example.vn/callbacks/vnpay/return",
    client_ip="113.160.1.2",
)


def test_payment_url_fields_in_vnpay_formats(config: VNPayConfig) -> None:
    url = requests.payment_url(config, ORDER)
    assert url.startswith("https://sandbox.vnpayment.vn/paymentv2/vpcpay.html?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["vnp_Amount"] == "3500000"
    assert params["vnp_CreateDate"] == "20261123170000"
    assert params["vnp_ExpireDate"] == "20261123171500"
    assert params["vnp_CurrCode"] == "VND"
    assert params["vnp_Command"] == "pay"
    assert params["vnp_OrderInfo"] == "Thanh toan phi, le phi ho so 000.00.12.H29-241123-0001 Dang ky ho tich"
    assert "vnp_SecureHashType" not in params  # 2.1.0 must not send it
    assert signing.verify_query(params, SECRET)
    # The hash is the last parameter, as VNPay's samples append it.
    assert urlsplit(url).query.rsplit("&", 1)[1] == f"vnp_SecureHash={params['vnp_SecureHash']}"


def test_notification_success(config: VNPayConfig) -> None:
    result = responses.parse_notification(config, urlencode(signed_query_fixture("ipn_success.json")))
    assert result.outcome is ProviderOutcome.SUCCEEDED
    assert result.amount == 35000
    assert result.transaction_id == "14226112"
    assert result.paid_at == datetime(2026, 11, 23, 10, 1, 12, tzinfo=UTC)
    assert result.codes["vnp_ResponseCode"] == "00"


def test_notification_forged_or_for_another_merchant(config: VNPayConfig) -> None:
    params = signed_query_fixture("ipn_success.json")
    with pytest.raises(InvalidSignature):
        responses.parse_notification(config, urlencode({**params, "vnp_Amount": "350000000"}))
    with pytest.raises(InvalidSignature):
        responses.parse_notification(
            config, urlencode(signed_query_fixture("ipn_success.json", vnp_TmnCode="OTHER001"))
        )


@pytest.mark.parametrize(
    ("response_code", "status", "outcome"),
    [
        ("00", "00", ProviderOutcome.SUCCEEDED),
        ("24", "02", ProviderOutcome.FAILED),
        ("51", "02", ProviderOutcome.FAILED),
        ("11", "02", ProviderOutcome.FAILED),
        ("13", "02", ProviderOutcome.FAILED),
        ("07", "00", ProviderOutcome.UNDER_REVIEW),
        ("00", "07", ProviderOutcome.UNDER_REVIEW),
        ("00", "01", ProviderOutcome.PENDING),
        ("00", "02", ProviderOutcome.FAILED),
        ("00", "04", ProviderOutcome.FAILED),
    ],
)
def test_status_map(response_code: str, status: str, outcome: ProviderOutcome) -> None:
    assert codes.payment_outcome(response_code, status) is outcome


def test_every_documented_response_code_maps_to_an_outcome() -> None:
    for code in codes.PAYMENT_RESPONSE_CODES:
        for status in codes.TRANSACTION_STATUS_CODES:
            assert isinstance(codes.payment_outcome(code, status), ProviderOutcome)


def test_querydr_body_checksum(config: VNPayConfig) -> None:
    ref = TransactionRef(reference="K3M5Q7ZX2B4D6F8H1J3L5N7P", created_at=CREATED)
    body = requests.querydr_body(config, ref, "req-1", datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert body["vnp_TransactionDate"] == "20261123170000"
    assert body["vnp_CreateDate"] == "20261123180000"
    assert body["vnp_IpAddr"] == "10.1.2.3"
    data = "|".join(body[f] for f in signing.QUERYDR_REQUEST_FIELDS)
    assert body["vnp_SecureHash"] == signing.hmac_sha512(SECRET, data)


def test_refund_body_checksum_and_type(config: VNPayConfig) -> None:
    ref = TransactionRef(reference="R1", created_at=CREATED, transaction_id="14226112")
    order = RefundOrder(
        "req-2", ref, 27000, full=False, requested_by="Sở Tư pháp", reason="Hoàn cước", requested_at=CREATED
    )
    body = requests.refund_body(config, order)
    assert body["vnp_TransactionType"] == "03"
    assert body["vnp_Amount"] == "2700000"
    assert body["vnp_CreateBy"] == "So Tu phap"
    data = "|".join(body[f] for f in signing.REFUND_REQUEST_FIELDS)
    assert body["vnp_SecureHash"] == signing.hmac_sha512(SECRET, data)
    full = requests.refund_body(config, RefundOrder("r3", ref, 35000, True, "x", "y", CREATED))
    assert full["vnp_TransactionType"] == "02"


def test_querydr_answers(config: VNPayConfig) -> None:
    fields = signing.QUERYDR_RESPONSE_FIELDS
    ok = signed_api_fixture("querydr_success.json", fields)
    result = responses.parse_querydr_response(config, ok, "K3M5Q7ZX2B4D6F8H1J3L5N7P")
    assert (result.outcome, result.amount, result.transaction_id) == (
        ProviderOutcome.SUCCEEDED,
        35000,
        "14226112",
    )

    not_found = signed_api_fixture("querydr_success.json", fields, vnp_ResponseCode="91", vnp_TransactionStatus="")
    assert responses.parse_querydr_response(config, not_found, "X").outcome is ProviderOutcome.NOT_FOUND

    with pytest.raises(InvalidSignature):
        responses.parse_querydr_response(config, {**ok, "vnp_TransactionStatus": "02"}, "K3M5Q7ZX2B4D6F8H1J3L5N7P")
    with pytest.raises(ProviderRejected):
        responses.parse_querydr_response(
            config, signed_api_fixture("querydr_success.json", fields, vnp_ResponseCode="97"), "K3M5"
        )
    with pytest.raises(ProviderUnavailable):
        responses.parse_querydr_response(
            config, signed_api_fixture("querydr_success.json", fields, vnp_ResponseCode="94"), "K3M5"
        )
    with pytest.raises(ProviderRejected):  # an answer about another transaction is not an answer
        responses.parse_querydr_response(config, ok, "SOMETHINGELSE")


def test_refund_answers(config: VNPayConfig) -> None:
    fields = signing.REFUND_RESPONSE_FIELDS
    ok = signed_api_fixture("refund_success.json", fields)
    result = responses.parse_refund_response(config, ok, "req-2")
    assert (result.outcome, result.transaction_id) == (ProviderOutcome.SUCCEEDED, "14226999")
    pending = signed_api_fixture("refund_success.json", fields, vnp_TransactionStatus="05")
    assert responses.parse_refund_response(config, pending, "r").outcome is ProviderOutcome.PENDING
    refused = signed_api_fixture("refund_success.json", fields, vnp_ResponseCode="95")
    assert responses.parse_refund_response(config, refused, "r").outcome is ProviderOutcome.FAILED


def test_vnpay_times_are_read_in_gmt7_and_checked() -> None:
    moment = parse_time("20261123235959")
    assert moment.astimezone(UTC) == datetime(2026, 11, 23, 16, 59, 59, tzinfo=UTC)
    assert format_time(moment) == "20261123235959"
    for bad in ("20261323000000", "2026112300000", "2026112300000x", "２０２61123000000", ""):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_querydr_of_a_refunded_transaction(config: VNPayConfig) -> None:
    fields = signing.QUERYDR_RESPONSE_FIELDS
    ref = "K3M5Q7ZX2B4D6F8H1J3L5N7P"

    def answer(**changes: str) -> dict[str, str]:
        return signed_api_fixture("querydr_success.json", fields, **changes)

    assert responses.parse_refund_query(config, answer(), ref) is None  # type 01: the payment, no refund
    pending = responses.parse_refund_query(
        config, answer(vnp_TransactionType="03", vnp_TransactionStatus="05", vnp_TransactionNo="14227001"), ref
    )
    assert pending is not None
    assert (pending.outcome, pending.transaction_id) == (ProviderOutcome.PENDING, "14227001")
    for status, outcome in [("06", ProviderOutcome.PENDING), ("00", ProviderOutcome.SUCCEEDED)]:
        done = responses.parse_refund_query(config, answer(vnp_TransactionType="02", vnp_TransactionStatus=status), ref)
        assert done is not None and done.outcome is outcome
    refused = responses.parse_refund_query(config, answer(vnp_TransactionType="03", vnp_TransactionStatus="09"), ref)
    assert refused is not None and refused.outcome is ProviderOutcome.FAILED
    with pytest.raises(ProviderUnavailable):  # not a refund status: asked again later, never guessed
        responses.parse_refund_query(config, answer(vnp_TransactionType="03", vnp_TransactionStatus="02"), ref)
    with pytest.raises(ProviderRejected):
        responses.parse_refund_query(config, answer(vnp_ResponseCode="91", vnp_TransactionStatus=""), ref)
    with pytest.raises(ProviderRejected):
        responses.parse_refund_query(config, answer(), "SOMETHINGELSE")

    # Asked about the payment, the same answer says it succeeded, whatever became of the refund.
    payment = responses.parse_querydr_response(
        config, answer(vnp_TransactionType="03", vnp_TransactionStatus="09", vnp_TransactionNo="14227001"), ref
    )
    assert (payment.outcome, payment.transaction_id) == (ProviderOutcome.SUCCEEDED, None)


@pytest.mark.parametrize("amount", [3500000.0, True, ["3500000"], {"v": 3500000}, -3500000, 10**12 * 100])
def test_a_querydr_amount_that_is_not_a_json_integer_or_string_of_digits_is_refused(
    config: VNPayConfig, amount: object
) -> None:
    """JSON has numbers VNPay never writes: each is refused, none read as some other number of đồng."""
    body = signed_api_fixture("querydr_success.json", signing.QUERYDR_RESPONSE_FIELDS)
    body["vnp_Amount"] = amount
    body["vnp_SecureHash"] = signing.pipe_checksum(body, signing.QUERYDR_RESPONSE_FIELDS, SECRET)
    with pytest.raises(ValueError):
        responses.parse_querydr_response(config, body, ORDER.reference)


def test_a_querydr_amount_may_be_a_json_integer(config: VNPayConfig) -> None:
    body = signed_api_fixture("querydr_success.json", signing.QUERYDR_RESPONSE_FIELDS)
    body["vnp_Amount"] = 3500000
    body["vnp_SecureHash"] = signing.pipe_checksum(body, signing.QUERYDR_RESPONSE_FIELDS, SECRET)
    assert responses.parse_querydr_response(config, body, ORDER.reference).amount == 35000
