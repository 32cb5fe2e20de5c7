"""The adapter's I/O against VNPay's merchant API, with respx standing in for VNPay."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from adapters.vnpay import signing
from adapters.vnpay.config import VNPayConfig
from adapters.vnpay.provider import VNPayProvider
from contracts.errors import ProviderUnavailable
from contracts.providers import ProviderOutcome, RefundOrder, TransactionRef
from tests.adapters.vnpay.conftest import API_URL, SECRET, signed_api_fixture

pytestmark = pytest.mark.anyio
REF = TransactionRef(reference="K3M5Q7ZX2B4D6F8H1J3L5N7P", created_at=datetime(2026, 11, 23, 10, tzinfo=UTC))


@respx.mock
async def test_query_sends_signed_json_and_reads_answer(config: VNPayConfig) -> None:
    route = respx.post(API_URL).respond(
        json=signed_api_fixture("querydr_success.json", signing.QUERYDR_RESPONSE_FIELDS)
    )
    result = await VNPayProvider(config).query(REF)
    assert result.outcome is ProviderOutcome.SUCCEEDED
    sent = route.calls.last.request
    body = httpx.Response(200, content=sent.content).json()
    assert body["vnp_Command"] == "querydr"
    assert body["vnp_SecureHash"] == signing.pipe_checksum(body, signing.QUERYDR_REQUEST_FIELDS, SECRET)


@respx.mock
async def test_query_is_retried_on_5xx_and_timeouts(config: VNPayConfig) -> None:
    route = respx.post(API_URL).mock(
        side_effect=[
            httpx.Response(503),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=signed_api_fixture("querydr_success.json", signing.QUERYDR_RESPONSE_FIELDS)),
        ]
    )
    assert (await VNPayProvider(config).query(REF)).outcome is ProviderOutcome.SUCCEEDED
    assert route.call_count == 3


@respx.mock
async def test_query_gives_up_as_unavailable(config: VNPayConfig) -> None:
    respx.post(API_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderUnavailable):
        await VNPayProvider(config).query(REF)


@respx.mock
async def test_refund_timeout_is_not_resent(config: VNPayConfig) -> None:
    """VNPay may have acted on a refund whose answer timed out: sending it again could refund twice."""
    route = respx.post(API_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    order = RefundOrder("req-9", REF, 1000, False, "ops", "test", datetime(2026, 11, 24, tzinfo=UTC))
    with pytest.raises(ProviderUnavailable):
        await VNPayProvider(config).refund(order)
    assert route.call_count == 1


@respx.mock
async def test_refund_connect_error_is_resent(config: VNPayConfig) -> None:
    route = respx.post(API_URL).mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(200, json=signed_api_fixture("refund_success.json", signing.REFUND_RESPONSE_FIELDS)),
        ]
    )
    order = RefundOrder("req-9", REF, 27000, False, "ops", "test", datetime(2026, 11, 24, tzinfo=UTC))
    assert (await VNPayProvider(config).refund(order)).outcome is ProviderOutcome.SUCCEEDED
    assert route.call_count == 2


@respx.mock
async def test_redirects_are_not_followed(config: VNPayConfig) -> None:
    respx.post(API_URL).respond(status_code=308, headers={"location": "https://attacker.example/steal"})
    with pytest.raises(Exception) as caught:
        await VNPayProvider(config).query(REF)
    assert "308" in str(caught.value)
