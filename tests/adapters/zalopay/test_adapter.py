"""The ZaloPay adapter against ZaloPay's own payloads: the published callback, and API answers (respx)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from adapters.zalopay import signing
from adapters.zalopay.config import ZaloPayConfig
from adapters.zalopay.provider import ZaloPayProvider
from adapters.zalopay.settings import ZaloPaySettings
from contracts.errors import InvalidSignature, ProviderRejected
from contracts.providers import (
    CheckoutOrder,
    Inbound,
    ProviderOutcome,
    RefundOrder,
    TransactionRef,
    Verdict,
)
from tests.adapters.zalopay.conftest import HOST, fixture
from tests.zalopay_vectors import CALLBACK_DATA, CALLBACK_MAC, CREATE_KEY1, CREATE_MAC, CREATE_TEXT

# 23:30 UTC is already the next day in Vietnam.
CREATED = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
ORDER = CheckoutOrder(
    reference="261124_k3m5q7zx2b4d6f8h1j3l5n7p",
    amount=35000,
    description="Le phi ho so 000.00.12.H29-241123-0001",
    created_at=CREATED,
    expires_at=datetime(2026, 11, 23, 23, 45, tzinfo=UTC),
    return_url="https://gw.example.vn/callbacks/zalopay/return",
    client_ip="113.160.1.2",
    notify_url="https://gw.example.vn/callbacks/zalopay/ipn",
)
PAYMENT = TransactionRef(reference=ORDER.reference, created_at=CREATED, transaction_id="261124000000389")
REFUND = RefundOrder(
    request_id="abcdefghijklmnopqrstuvwx",
    payment=PAYMENT,
    amount=12000,
    full=False,
    requested_by="ops",
    reason="Hoan phi nop thua",
    requested_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
)


def _callback(data: str, mac: str) -> Inbound:
    body = json.dumps({"data": data, "mac": mac, "type": 1}).encode()
    return Inbound(method="POST", query="", headers={"content-type": "application/json"}, body=body)


def _form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def test_zalopays_published_callback_example_verifies_and_reads(config: ZaloPayConfig) -> None:
    result = ZaloPayProvider(config).parse_notification(_callback(CALLBACK_DATA, CALLBACK_MAC))
    assert result.reference == "200904_2553_1598435687208"
    assert (result.outcome, result.amount, result.transaction_id) == (
        ProviderOutcome.SUCCEEDED,
        10000,
        "200904000000389",
    )
    assert result.paid_at == datetime.fromtimestamp(1599189413.498, tz=UTC)


def test_the_published_example_with_one_byte_changed_is_refused(config: ZaloPayConfig) -> None:
    with pytest.raises(InvalidSignature):
        ZaloPayProvider(config).parse_notification(_callback(CALLBACK_DATA.replace("10000", "10001"), CALLBACK_MAC))


def test_a_signed_data_text_with_a_key_twice_is_not_read(config: ZaloPayConfig) -> None:
    data = CALLBACK_DATA[:-1] + ',"amount":1}'
    with pytest.raises(ValueError):
        ZaloPayProvider(config).parse_notification(_callback(data, signing.hmac_sha256(config.key2, data)))


def test_the_create_mac_is_the_documented_one() -> None:
    body = dict(zip(signing.CREATE_FIELDS, CREATE_TEXT.split("|"), strict=True))
    assert signing.pipe_text(body, signing.CREATE_FIELDS) == CREATE_TEXT
    assert signing.sign(body, signing.CREATE_FIELDS, CREATE_KEY1) == CREATE_MAC


def test_the_reference_starts_with_the_date_in_vietnam(config: ZaloPayConfig) -> None:
    reference = ZaloPayProvider(config).reference_for("pay_k3m5q7zx2b4d6f8h1j3l5n7p", CREATED)
    assert reference == "261124_k3m5q7zx2b4d6f8h1j3l5n7p"
    assert len(ZaloPayProvider(config).reference_for("pay_" + "x" * 60, CREATED)) == 40


@pytest.mark.anyio
async def test_create_sends_the_signed_order_with_the_gateways_urls(config: ZaloPayConfig) -> None:
    with respx.mock() as router:
        route = router.post(f"{HOST}/v2/create").mock(
            return_value=httpx.Response(200, json=fixture("create_success.json"))
        )
        checkout = await ZaloPayProvider(config).create_checkout(ORDER)
    sent = _form(route.calls.last.request)
    assert sent["app_id"] == "2553" and sent["amount"] == "35000" and sent["app_trans_id"] == ORDER.reference
    assert sent["app_time"] == str(int(CREATED.timestamp() * 1000))
    assert sent["expire_duration_seconds"] == "900"
    assert sent["callback_url"] == ORDER.notify_url
    assert json.loads(sent["embed_data"]) == {"redirecturl": ORDER.return_url}
    assert sent["mac"] == signing.hmac_sha256(config.key1, "|".join(sent[f] for f in signing.CREATE_FIELDS))
    answer = fixture("create_success.json")
    assert (checkout.url, checkout.qr_code, checkout.provider_order_id) == (
        answer["order_url"],
        answer["qr_code"],
        answer["zp_trans_token"],
    )


@pytest.mark.anyio
async def test_a_repeated_app_trans_id_is_a_refusal(config: ZaloPayConfig) -> None:
    with respx.mock() as router:
        router.post(f"{HOST}/v2/create").mock(return_value=httpx.Response(200, json=fixture("create_duplicate.json")))
        with pytest.raises(ProviderRejected) as caught:
            await ZaloPayProvider(config).create_checkout(ORDER)
    assert caught.value.codes == {"return_code": "2", "sub_return_code": "-68"}


@pytest.mark.anyio
async def test_query_reads_a_paid_and_an_unpaid_order(config: ZaloPayConfig) -> None:
    with respx.mock() as router:
        route = router.post(f"{HOST}/v2/query").mock(return_value=httpx.Response(200, json=fixture("query_paid.json")))
        paid = await ZaloPayProvider(config).query(PAYMENT)
        route.mock(return_value=httpx.Response(200, json=fixture("query_unpaid.json")))
        unpaid = await ZaloPayProvider(config).query(PAYMENT)
    sent = _form(route.calls.last.request)
    assert sent["mac"] == signing.hmac_sha256(config.key1, f"2553|{ORDER.reference}|{config.key1}")
    assert (paid.outcome, paid.amount, paid.transaction_id) == (ProviderOutcome.SUCCEEDED, 50000, "240101000000389")
    assert (unpaid.outcome, unpaid.amount, unpaid.transaction_id) == (ProviderOutcome.PENDING, None, None)


@pytest.mark.anyio
async def test_a_refund_and_its_query_name_the_same_m_refund_id_dated_the_day_it_is_sent(
    config: ZaloPayConfig,
) -> None:
    # The payment is of 24 November (GMT+7), the refund is sent on the 25th and asked about on the 26th:
    # ZaloPay's m_refund_id "must be preceded by yymmdd of the current date", the refund's day.
    provider = ZaloPayProvider(config, now=lambda: datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    with respx.mock() as router:
        refund = router.post(f"{HOST}/v2/refund").mock(
            return_value=httpx.Response(200, json=fixture("refund_processing.json"))
        )
        status = router.post(f"{HOST}/v2/query_refund").mock(
            return_value=httpx.Response(200, json={"return_code": 1, "return_message": "ok", "sub_return_code": 1})
        )
        result = await provider.refund(REFUND)
        later = await provider.query_refund(PAYMENT, REFUND.request_id, REFUND.requested_at)
    sent, asked = _form(refund.calls.last.request), _form(status.calls.last.request)
    assert sent["m_refund_id"] == asked["m_refund_id"] == "261125_2553_abcdefghijklmnopqrstuvwx"
    assert sent["zp_trans_id"] == PAYMENT.transaction_id and sent["amount"] == "12000"
    assert sent["mac"] == signing.hmac_sha256(config.key1, signing.pipe_text(sent, signing.REFUND_FIELDS))
    assert (result.outcome, result.transaction_id) == (ProviderOutcome.PENDING, "240101000000771")
    assert later is not None and (later.outcome, later.request_id) == (ProviderOutcome.SUCCEEDED, REFUND.request_id)


@pytest.mark.anyio
async def test_a_payment_without_zp_trans_id_cannot_be_refunded(config: ZaloPayConfig) -> None:
    order = dataclasses.replace(REFUND, payment=TransactionRef(ORDER.reference, CREATED))
    with respx.mock(), pytest.raises(ProviderRejected):
        await ZaloPayProvider(config).refund(order)


@pytest.mark.parametrize(
    ("verdict", "code"),
    [
        (Verdict.RECORDED, 1),
        (Verdict.ALREADY_FINAL, 1),
        (Verdict.INVALID_SIGNATURE, -1),
        (Verdict.UNKNOWN_ORDER, -1),
        (Verdict.AMOUNT_MISMATCH, -1),
        (Verdict.RETRY, 0),
    ],
)
def test_each_verdict_is_answered_in_zalopays_terms(config: ZaloPayConfig, verdict: Verdict, code: int) -> None:
    ack = ZaloPayProvider(config).acknowledge(verdict)
    assert (ack.status_code, ack.media_type, json.loads(ack.body)["return_code"]) == (200, "application/json", code)


def test_the_sandbox_keys_are_the_simulators() -> None:
    assert ZaloPaySettings().uses_simulator_secret()
    assert not ZaloPaySettings(key1="a" * 32, key2="b" * 32).uses_simulator_secret()  # type: ignore[arg-type]
    assert repr(ZaloPaySettings().config()).count("PcY4") == 0


def _redirect(config: ZaloPayConfig, **changes: str) -> Inbound:
    params = {
        "appid": "2553",
        "apptransid": ORDER.reference,
        "pmcid": "38",
        "bankcode": "",
        "amount": "35000",
        "discountamount": "0",
        "status": "1",
        **changes,
    }
    params["checksum"] = signing.hmac_sha256(config.key2, "|".join(params.values()))
    return Inbound(method="GET", query="&".join(f"{k}={v}" for k, v in params.items()))


def test_a_signed_browser_return_names_the_order_and_decides_nothing(config: ZaloPayConfig) -> None:
    result = ZaloPayProvider(config).parse_notification(_redirect(config))
    assert (result.reference, result.outcome, result.amount) == (ORDER.reference, ProviderOutcome.PENDING, 35000)


def test_a_browser_return_not_signed_by_key2_is_refused(config: ZaloPayConfig) -> None:
    provider = ZaloPayProvider(config)
    genuine = _redirect(config).query
    for query in (
        genuine.replace("amount=35000", "amount=1"),
        genuine + "&status=1",
        genuine.rsplit("&checksum=", 1)[0],
        _redirect(ZaloPayConfig(2553, config.key1, config.key1, HOST)).query,
    ):
        with pytest.raises(InvalidSignature):
            provider.parse_notification(Inbound(method="GET", query=query))


@pytest.mark.anyio
async def test_a_provider_closed_with_its_app_calls_again_when_the_app_starts_again(config: ZaloPayConfig) -> None:
    provider = ZaloPayProvider(config)
    await provider.aclose()
    with respx.mock() as router:
        router.post(f"{HOST}/v2/query").mock(return_value=httpx.Response(200, json=fixture("query_paid.json")))
        assert (await provider.query(PAYMENT)).outcome is ProviderOutcome.SUCCEEDED
    await provider.aclose()
