"""The adapter against MyVNPost's payloads (respx): the token, quotes, orders, cancels and tracking."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import respx

from adapters.vnpost.client import VNPostClient
from adapters.vnpost.config import VNPostConfig
from adapters.vnpost.provider import VNPostProvider
from contracts.errors import ProviderRejected, ProviderUnavailable
from contracts.shipping import Parcel, QuoteRequest, ShipmentKind, ShipmentStatus
from tests.adapters.vnpost.conftest import HOST, fixture
from tests.adapters.vnpost.test_requests import ORDER
from tests.postal_examples import AGENCY, CITIZEN

pytestmark = pytest.mark.anyio

TOKEN = f"{HOST}/customer-partner/GetAccessToken"
CHARGE = f"{HOST}/customer-partner/ServicesCharge"
CREATE = f"{HOST}/customer-partner/CreateOrder"
CANCEL = f"{HOST}/customer-partner/orderCancel"
TRACK = f"{HOST}/customer-partner/orderTracking"
QUOTE = QuoteRequest(AGENCY, CITIZEN, Parcel(weight_grams=350), "ETN011", pickup_at_address=True)


def _login(router: respx.MockRouter, *tokens: str) -> respx.Route:
    return router.post(TOKEN).mock(side_effect=[httpx.Response(200, json={"token": t}) for t in tokens])


@respx.mock(assert_all_called=True)
async def test_a_quote_logs_in_then_sends_the_token_header(respx_mock: respx.MockRouter, config: VNPostConfig) -> None:
    login = respx_mock.post(TOKEN).mock(return_value=httpx.Response(200, json=fixture("token.json")))
    charge = respx_mock.post(CHARGE).mock(return_value=httpx.Response(200, json=fixture("services_charge.json")))
    provider = VNPostProvider(config)
    quote = await provider.quote(QUOTE)
    await provider.quote(QUOTE)
    assert (quote.service, quote.main_fee, quote.addon_fee, quote.total) == ("ETN011", 26000, 8000, 34000)
    assert isinstance(quote.main_fee, int)
    assert login.call_count == 1  # the token is kept between calls
    assert json.loads(login.calls[0].request.content) == {
        "username": config.username,
        "password": config.password,
        "customerCode": config.customer_code,
    }
    sent = charge.calls[0].request
    assert sent.headers["token"] == "eyJhbGciOiJIUzI1NiJ9.ZGV2.c2ln"
    assert sent.headers["content-type"] == "application/json"
    assert b"\\u1ed9" in sent.content  # non-ASCII escaped, as json.dumps writes it ("Hà Nội")
    await provider.aclose()


@respx.mock
async def test_a_token_refused_is_renewed_once_and_the_call_made_again(
    respx_mock: respx.MockRouter, config: VNPostConfig
) -> None:
    login = _login(respx_mock, "old", "new")
    charge = respx_mock.post(CHARGE).mock(
        side_effect=[
            httpx.Response(401, json={"message": "Token hết hạn"}),
            httpx.Response(200, json=fixture("services_charge.json")),
        ]
    )
    quote = await VNPostProvider(config).quote(QUOTE)
    assert quote.total == 34000
    assert login.call_count == 2
    assert [c.request.headers["token"] for c in charge.calls] == ["old", "new"]


@respx.mock
async def test_a_new_token_refused_too_is_a_rejection_not_a_loop(
    respx_mock: respx.MockRouter, config: VNPostConfig
) -> None:
    login = _login(respx_mock, "one", "two")
    charge = respx_mock.post(CHARGE).mock(return_value=httpx.Response(401, json={"message": "Token không hợp lệ"}))
    with pytest.raises(ProviderRejected) as caught:
        await VNPostProvider(config).quote(QUOTE)
    assert caught.value.codes == {"http_status": "401"}
    assert (login.call_count, charge.call_count) == (2, 2)


@respx.mock
async def test_an_old_token_is_renewed_before_it_is_used(respx_mock: respx.MockRouter, config: VNPostConfig) -> None:
    now = [0.0]
    login = _login(respx_mock, "first", "second")
    charge = respx_mock.post(CHARGE).mock(return_value=httpx.Response(200, json=fixture("services_charge.json")))
    client = VNPostClient(config, clock=lambda: now[0])
    await client.call("POST", "/customer-partner/ServicesCharge", {}, idempotent=True)
    now[0] += config.token_ttl_seconds - 1
    await client.call("POST", "/customer-partner/ServicesCharge", {}, idempotent=True)
    now[0] += 2
    await client.call("POST", "/customer-partner/ServicesCharge", {}, idempotent=True)
    assert login.call_count == 2
    assert [c.request.headers["token"] for c in charge.calls] == ["first", "first", "second"]


@respx.mock
async def test_calls_made_together_log_in_once(respx_mock: respx.MockRouter, config: VNPostConfig) -> None:
    import asyncio

    tokens = iter(["only", "never"])

    async def slow_login(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # the other calls run meanwhile and want a token too
        return httpx.Response(200, json={"token": next(tokens)})

    login = respx_mock.post(TOKEN).mock(side_effect=slow_login)
    respx_mock.post(CHARGE).mock(return_value=httpx.Response(200, json=fixture("services_charge.json")))
    provider = VNPostProvider(config)
    quotes = await asyncio.gather(*(provider.quote(QUOTE) for _ in range(5)))
    assert {q.total for q in quotes} == {34000}
    assert login.call_count == 1


@respx.mock
async def test_a_refused_login_is_a_rejection(respx_mock: respx.MockRouter, config: VNPostConfig) -> None:
    respx_mock.post(TOKEN).mock(return_value=httpx.Response(200, json=fixture("token_refused.json")))
    with pytest.raises(ProviderRejected, match="không đúng"):
        await VNPostProvider(config).quote(QUOTE)


@respx.mock
async def test_a_5xx_quote_is_asked_again_and_then_unavailable(
    respx_mock: respx.MockRouter, config: VNPostConfig
) -> None:
    _login(respx_mock, "t")
    charge = respx_mock.post(CHARGE).mock(return_value=httpx.Response(503))
    with pytest.raises(ProviderUnavailable):
        await VNPostProvider(config).quote(QUOTE)
    assert charge.call_count == 3


@respx.mock
async def test_a_booking_reads_the_order_and_is_never_sent_twice_after_a_5xx(
    respx_mock: respx.MockRouter, config: VNPostConfig
) -> None:
    _login(respx_mock, "t")
    create = respx_mock.post(CREATE).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=fixture("create_order.json"))]
    )
    provider = VNPostProvider(config)
    with pytest.raises(ProviderUnavailable):
        await provider.book(ORDER)
    assert create.call_count == 1
    booking = await provider.book(ORDER)
    assert (booking.carrier_order_id, booking.status_code, booking.total_fee) == ("2612050000123", "1", 34000)
    assert booking.item_number is None  # assigned at acceptance
    assert booking.office_code == "791000"  # a result is delivered by the recipient's office


@respx.mock
async def test_a_dossier_pickup_is_assigned_to_the_collecting_office(
    respx_mock: respx.MockRouter, config: VNPostConfig
) -> None:
    from dataclasses import replace

    _login(respx_mock, "t")
    respx_mock.post(CREATE).mock(return_value=httpx.Response(200, json=fixture("create_order.json")))
    booking = await VNPostProvider(config).book(replace(ORDER, kind=ShipmentKind.DOSSIER_PICKUP))
    assert booking.office_code == "011000"


@pytest.mark.parametrize(
    "answer",
    [
        {"originalID": "1", "status": 99, "totalFee": 1},  # a status MyVNPost does not have
        {"originalID": "1", "status": 1, "totalFee": 1.5},
        {"status": 1, "totalFee": 1},
        [{"originalID": "1"}],
    ],
)
@respx.mock
async def test_a_booking_answer_that_does_not_read_is_unavailable(
    respx_mock: respx.MockRouter, config: VNPostConfig, answer: object
) -> None:
    _login(respx_mock, "t")
    respx_mock.post(CREATE).mock(return_value=httpx.Response(200, json=answer))
    with pytest.raises(ProviderUnavailable):
        await VNPostProvider(config).book(ORDER)


@respx.mock
async def test_a_refused_booking_carries_the_carriers_message(
    respx_mock: respx.MockRouter, config: VNPostConfig
) -> None:
    _login(respx_mock, "t")
    respx_mock.post(CREATE).mock(return_value=httpx.Response(400, json={"message": "Mã dịch vụ không hợp lệ"}))
    with pytest.raises(ProviderRejected, match="Mã dịch vụ không hợp lệ"):
        await VNPostProvider(config).book(ORDER)


@respx.mock
async def test_cancel_accepted_and_refused(respx_mock: respx.MockRouter, config: VNPostConfig) -> None:
    _login(respx_mock, "t")
    cancel = respx_mock.post(CANCEL).mock(
        side_effect=[
            httpx.Response(200, json=fixture("order_cancel.json")),
            httpx.Response(400, json={"message": "Đơn hàng ở trạng thái 7, không thể hủy"}),
        ]
    )
    provider = VNPostProvider(config)
    done = await provider.cancel("2612050000123")
    assert (done.accepted, done.case_id) == (True, "HUY000012345")
    assert json.loads(cancel.calls[0].request.content) == {"OriginalId": "2612050000123"}
    refused = await provider.cancel("2612050000123")
    assert not refused.accepted and "không thể hủy" in refused.message


@respx.mock
async def test_tracking_reads_every_event_oldest_first(respx_mock: respx.MockRouter, config: VNPostConfig) -> None:
    _login(respx_mock, "t")
    track = respx_mock.get(TRACK).mock(return_value=httpx.Response(200, json=fixture("tracking.json")))
    events = await VNPostProvider(config).track("2612050000123", "EB123456785VN")
    assert dict(track.calls[0].request.url.params) == {"originalId": "2612050000123"}
    assert [(e.code, e.status) for e in events] == [
        ("1", ShipmentStatus.PENDING),
        ("6", ShipmentStatus.PICKED_UP),
        ("7", ShipmentStatus.PICKED_UP),
    ]
    last = events[-1]
    assert last.occurred_at.utcoffset() == timedelta(hours=7)
    assert (last.item_number, last.location, last.actor) == ("EB123456785VN", "011000", "Bưu tá 011000")


@respx.mock
async def test_tracking_that_answers_of_another_order_is_refused(
    respx_mock: respx.MockRouter, config: VNPostConfig
) -> None:
    _login(respx_mock, "t")
    respx_mock.get(TRACK).mock(return_value=httpx.Response(200, json=fixture("tracking.json")))
    with pytest.raises(ProviderRejected):
        await VNPostProvider(config).track("2612050000999", None)


def test_the_provider_names_its_services_and_failure_reasons(config: VNPostConfig) -> None:
    provider = VNPostProvider(config)
    assert provider.services["ETN011"] == "Tài liệu/hàng hóa nhanh"
    assert provider.failure_reasons["L02"] == "Không tìm thấy địa chỉ người nhận"


def test_a_push_key_that_is_not_an_rsa_public_key_stops_the_adapter(config: VNPostConfig) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError):
        VNPostProvider(
            replace(config, push_public_key_pem="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
        )
