"""The MoMo adapter against MoMo's own payloads (fixtures/), its API mocked with respx."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from adapters.momo import requests
from adapters.momo.provider import MoMoProvider
from adapters.momo.settings import SIMULATOR_ACCESS_KEY, SIMULATOR_SECRET_KEY, MoMoSettings
from contracts.errors import InvalidSignature, ProviderRejected, ProviderUnavailable
from contracts.providers import CheckoutOrder, Inbound, ProviderOutcome, RefundOrder, TransactionRef, Verdict

FIXTURES = Path(__file__).parent / "fixtures"
HOST = "https://test-payment.momo.vn"
REFERENCE = "01JDQ7ZP4K3M5Q7ZX2B4D6F8H1"
REQUEST_ID = "c0ffee0123456789c0ffee0123456789"
ORDER = CheckoutOrder(
    reference=REFERENCE,
    amount=35000,
    description="Lệ phí hồ sơ 000.00.12.H29-241123-0001",
    created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    expires_at=datetime(2026, 11, 23, 10, 15, tzinfo=UTC),
    return_url="https://gw.example.vn/callbacks/momo/return",
    notify_url="https://gw.example.vn/callbacks/momo/ipn",
    client_ip="113.160.1.2",
)
PAYMENT = TransactionRef(reference=REFERENCE, created_at=ORDER.created_at, transaction_id="4088878653")
SENT_AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
REFUND = RefundOrder(
    request_id=REQUEST_ID,
    payment=PAYMENT,
    amount=12000,
    full=False,
    requested_by="ops",
    reason="Hoàn phí nộp thừa",
    requested_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


QUERY_REQUEST_ID = "6f1d2c3b4a5e6f708192a3b4c5d6e7f8"  # the one query_success.json echoes


def provider() -> MoMoProvider:
    config = MoMoSettings(api_url=HOST, _env_file=None).config()  # type: ignore[call-arg]
    return MoMoProvider(config, request_ids=lambda: QUERY_REQUEST_ID)


def ipn(body: bytes) -> Inbound:
    return Inbound(method="POST", query="", headers={"content-type": "application/json"}, body=body)


def test_the_dev_defaults_are_momos_public_test_merchant() -> None:
    settings = MoMoSettings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.partner_code, settings.access_key) == ("MOMO", SIMULATOR_ACCESS_KEY)
    assert settings.secret_key.get_secret_value() == SIMULATOR_SECRET_KEY
    assert settings.uses_simulator_secret()
    assert not MoMoSettings(secret_key="another", _env_file=None).uses_simulator_secret()  # type: ignore[arg-type,call-arg]
    assert SIMULATOR_SECRET_KEY not in repr(settings.config())


def test_a_genuine_ipn_reads_as_momo_sent_it() -> None:
    body = (FIXTURES / "ipn_success.json").read_bytes()
    result = provider().parse_notification(ipn(body))
    assert (result.reference, result.amount, result.outcome) == (REFERENCE, 35000, ProviderOutcome.SUCCEEDED)
    assert result.transaction_id == "4088878653"
    assert result.paid_at == datetime.fromtimestamp(1795924872, tz=UTC)
    assert result.codes == {"resultCode": "0", "payType": "qr"}


def test_an_ipn_whose_amount_is_rewritten_as_a_float_is_refused() -> None:
    body = (FIXTURES / "ipn_success.json").read_bytes().replace(b'"amount":35000', b'"amount":35000.0')
    with pytest.raises(InvalidSignature):
        provider().parse_notification(ipn(body))


def test_every_verdict_but_retry_is_a_204_with_no_body() -> None:
    answers = {verdict: provider().acknowledge(verdict) for verdict in Verdict}
    assert {v for v, a in answers.items() if a.status_code == 204 and a.body == b""} == set(Verdict) - {Verdict.RETRY}
    assert answers[Verdict.RETRY].status_code == 500


@pytest.mark.anyio
async def test_create_sends_a_signed_captureWallet_order_and_maps_the_answer() -> None:
    with respx.mock() as router:
        route = router.post(f"{HOST}/v2/gateway/api/create").mock(
            return_value=httpx.Response(200, json=fixture("create_success.json"))
        )
        checkout = await provider().create_checkout(ORDER)
    sent = json.loads(route.calls.last.request.content)
    assert sent["requestType"] == "captureWallet"
    assert (sent["amount"], sent["orderId"]) == (35000, REFERENCE)
    assert (sent["ipnUrl"], sent["redirectUrl"]) == (ORDER.notify_url, ORDER.return_url)
    assert sent["orderInfo"] == "Le phi ho so 000.00.12.H29-241123-0001"
    assert sent["orderExpireTime"] == 15  # minutes: the link lapses with the payment (expires_at)
    expected = fixture("create_success.json")
    assert (checkout.url, checkout.deeplink, checkout.qr_code) == (
        expected["payUrl"],
        expected["deeplink"],
        expected["qrCodeUrl"],
    )


@pytest.mark.anyio
@pytest.mark.parametrize(("code", "error"), [(41, ProviderRejected), (13, ProviderRejected), (99, ProviderUnavailable)])
async def test_a_refused_create_raises(code: int, error: type[Exception]) -> None:
    answer = {**fixture("create_success.json"), "resultCode": code, "payUrl": ""}
    with respx.mock() as router:
        router.post(f"{HOST}/v2/gateway/api/create").mock(return_value=httpx.Response(200, json=answer))
        with pytest.raises(error):
            await provider().create_checkout(ORDER)


@pytest.mark.anyio
async def test_a_create_that_timed_out_is_not_sent_again() -> None:
    with respx.mock() as router:
        route = router.post(f"{HOST}/v2/gateway/api/create").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(ProviderUnavailable):
            await provider().create_checkout(ORDER)
    assert route.call_count == 1


@pytest.mark.anyio
async def test_query_reads_the_payment() -> None:
    with respx.mock() as router:
        route = router.post(f"{HOST}/v2/gateway/api/query").mock(
            return_value=httpx.Response(200, json=fixture("query_success.json"))
        )
        result = await provider().query(PAYMENT)
    assert (result.outcome, result.amount, result.transaction_id) == (ProviderOutcome.SUCCEEDED, 35000, "4088878653")
    assert json.loads(route.calls.last.request.content)["orderId"] == REFERENCE


def test_order_expire_time_rounds_up_to_whole_minutes_and_is_never_zero() -> None:
    start = ORDER.created_at
    for seconds, minutes in [(15 * 60, 15), (15 * 60 + 1, 16), (1, 1), (0, 1), (40 * 86_400, 43_200)]:
        order = dataclasses.replace(ORDER, expires_at=start + timedelta(seconds=seconds))
        assert requests.expire_minutes(order) == minutes


@pytest.mark.anyio
async def test_an_answer_to_another_request_is_not_read() -> None:
    # MoMo signs no API answer: what it must echo is checked instead, the requestId sent among it.
    query_answer = {**fixture("query_success.json"), "requestId": "someone-elses-request"}
    refund_answer = {**fixture("refund_success.json"), "requestId": "someone-elses-request"}
    with respx.mock() as router:
        router.post(f"{HOST}/v2/gateway/api/query").mock(return_value=httpx.Response(200, json=query_answer))
        router.post(f"{HOST}/v2/gateway/api/refund").mock(return_value=httpx.Response(200, json=refund_answer))
        with pytest.raises(ProviderUnavailable, match="requestId"):
            await provider().query(PAYMENT)
        with pytest.raises(ProviderUnavailable, match="requestId"):
            await provider().refund(REFUND)


@pytest.mark.anyio
async def test_an_answer_about_another_order_is_refused() -> None:
    answer = {**fixture("query_success.json"), "orderId": "SOMEONEELSE"}
    with respx.mock() as router:
        router.post(f"{HOST}/v2/gateway/api/query").mock(return_value=httpx.Response(200, json=answer))
        with pytest.raises(ProviderRejected):
            await provider().query(PAYMENT)


@pytest.mark.anyio
async def test_refund_sends_a_new_order_id_and_the_original_trans_id() -> None:
    with respx.mock() as router:
        route = router.post(f"{HOST}/v2/gateway/api/refund").mock(
            return_value=httpx.Response(200, json=fixture("refund_success.json"))
        )
        result = await provider().refund(REFUND)
    sent = json.loads(route.calls.last.request.content)
    assert (sent["orderId"], sent["transId"], sent["amount"]) == (REQUEST_ID, 4088878653, 12000)
    assert sent["orderId"] != REFERENCE
    assert (result.outcome, result.request_id, result.transaction_id) == (
        ProviderOutcome.SUCCEEDED,
        REQUEST_ID,
        "4088879999",
    )


@pytest.mark.anyio
async def test_a_payment_without_trans_id_cannot_be_refunded() -> None:
    order = dataclasses.replace(REFUND, payment=TransactionRef(REFERENCE, ORDER.created_at))
    with respx.mock(), pytest.raises(ProviderRejected):
        await provider().refund(order)


@pytest.mark.anyio
async def test_query_refund_answers_about_our_refund_from_refund_trans() -> None:
    with respx.mock() as router:
        router.post(f"{HOST}/v2/gateway/api/query").mock(
            return_value=httpx.Response(200, json=fixture("query_success.json"))
        )
        ours = await provider().query_refund(PAYMENT, REQUEST_ID, SENT_AT)
        other = await provider().query_refund(PAYMENT, "another0123456789", SENT_AT)
    assert ours is not None and other is not None
    assert (ours.outcome, ours.request_id, ours.transaction_id) == (ProviderOutcome.SUCCEEDED, REQUEST_ID, "4088879999")
    assert (other.outcome, other.request_id) == (ProviderOutcome.NOT_FOUND, "another0123456789")
