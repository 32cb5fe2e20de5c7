"""The VNPost adapter against the simulator, end to end: each signs and reads with its own code, so a
mismatch on either side fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import httpx
import pytest

from adapters.vnpost.provider import VNPostProvider
from adapters.vnpost.settings import VNPostSettings
from adapters.vnpost.wire import is_valid_s10
from contracts.errors import InvalidSignature, ProviderRejected
from contracts.providers import Inbound
from contracts.shipping import CarrierEvent, Parcel, QuoteRequest, ShipmentKind, ShipmentStatus
from simulators.vnpost import DEV_ACCOUNT, SimulatorConfig, create_app
from simulators.vnpost.simulator_state import simulator_of
from tests.adapters.vnpost.test_requests import ORDER
from tests.postal_examples import AGENCY, CITIZEN
from tests.simulators.vnpost.conftest import CALLBACK_URL, HOST

pytestmark = pytest.mark.anyio


@dataclass
class Gateway:
    """The gateway's /callbacks/vnpost, reduced to the adapter: verify, keep the events, acknowledge."""

    provider: VNPostProvider | None = None
    events: list[CarrierEvent] = field(default_factory=list)
    refused: int = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert self.provider is not None
        try:
            self.events.extend(self.provider.parse_push(Inbound("POST", "", dict(request.headers), request.content)))
            ack = self.provider.acknowledge_push(True)
        except InvalidSignature:
            self.refused += 1
            ack = self.provider.acknowledge_push(False)
        return httpx.Response(ack.status_code, content=ack.body, headers={"content-type": ack.media_type})


@dataclass
class World:
    app: object
    sim: httpx.AsyncClient
    provider: VNPostProvider
    gateway: Gateway

    async def advance(self, original_id: str, **body: object) -> None:
        r = await self.sim.post(f"/_sim/vnpost/orders/{original_id}/advance", json=body)
        assert r.status_code == 200, r.text
        await simulator_of(self.app.state).pushes.drain()  # type: ignore[attr-defined]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    gateway = Gateway()
    app = create_app(
        SimulatorConfig(accounts=[DEV_ACCOUNT], callback_url=CALLBACK_URL, push_retry_intervals=()),
        push_transport=httpx.MockTransport(gateway.handler),
    )
    transport = httpx.ASGITransport(app=app)
    # The adapter's defaults are the simulator's account and key; only the address is the test's.
    config = replace(VNPostSettings(_env_file=None).config(), api_url=HOST)  # type: ignore[call-arg]
    provider = VNPostProvider(config, transport=transport)
    gateway.provider = provider
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=HOST) as sim:
        yield World(app, sim, provider, gateway)
    await provider.aclose()


async def test_quote_book_advance_push_track(world: World) -> None:
    quote = await world.provider.quote(QuoteRequest(AGENCY, CITIZEN, Parcel(weight_grams=350), "ETN011", True, 50_000))
    assert (quote.main_fee, quote.addon_fee, quote.total) == (26_000, 5_000 + 10_000, 41_000)

    booking = await world.provider.book(ORDER)
    # ETN011 350 g to another province, pickup, COD 50,000 (minimum fee), postage from recipient, proof.
    assert booking.total_fee == 26_000 + 5_000 + 10_000 + 0 + 3_000
    assert (booking.status_code, booking.item_number, booking.office_code) == ("1", None, "791000")

    await world.advance(booking.carrier_order_id, to="delivered")
    pushed = world.gateway.events
    assert [e.status for e in pushed] == [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    delivered = pushed[-1]
    assert delivered.item_number is not None and is_valid_s10(delivered.item_number)
    assert delivered.cod_amount == 50_000 and delivered.carrier_order_id == booking.carrier_order_id
    assert delivered.raw["orderCode"] == ORDER.reference

    await world.advance(booking.carrier_order_id)  # COD remitted
    tracked = await world.provider.track(booking.carrier_order_id, None)
    assert [e.code for e in tracked] == ["1", "6", "7", "10", "11", "12", "14", "21"]
    assert tracked[1:] == world.gateway.events  # the same events by either road
    assert await world.provider.track("", delivered.item_number) == tracked


async def test_a_booking_sent_again_after_its_answer_was_lost_finds_the_order_the_first_made(world: World) -> None:
    # The gateway died (or timed out) after VNPost made the order: the retry must not end refused while
    # VNPost holds a live order, nor make a second one.
    first = await world.provider.book(ORDER)
    again = await world.provider.book(ORDER)
    assert again == first
    assert len(simulator_of(world.app.state).store.orders) == 1  # type: ignore[attr-defined]


async def test_a_booking_refused_for_another_reason_is_still_refused(world: World) -> None:
    with pytest.raises(ProviderRejected):
        await world.provider.book(replace(ORDER, service="NOPE01"))


async def test_returned_to_the_agency_with_reasons(world: World) -> None:
    booking = await world.provider.book(replace(ORDER, reference="shp_returned", cod_amount=0))
    r = await world.sim.put(f"/_sim/vnpost/orders/{booking.carrier_order_id}/scenario", json={"scenario": "returned"})
    assert r.status_code == 200
    await world.advance(booking.carrier_order_id, to="returned")
    statuses = [e.status for e in world.gateway.events]
    assert statuses[-7:] == [
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.ON_HOLD,
        ShipmentStatus.RETURN_TO_SENDER,
        ShipmentStatus.RETURN_TO_SENDER,
        ShipmentStatus.RETURNED_TO_AGENCY,
    ]
    reasons = [e.reason for e in world.gateway.events if e.status is ShipmentStatus.DELIVERY_FAILED]
    assert reasons == [world.provider.failure_reasons["L01"], world.provider.failure_reasons["L05"]]


async def test_cancel_before_pickup_and_not_after(world: World) -> None:
    booking = await world.provider.book(replace(ORDER, reference="shp_cancel", kind=ShipmentKind.DOSSIER_PICKUP))
    assert booking.office_code == "011000"
    done = await world.provider.cancel(booking.carrier_order_id)
    assert done.accepted and done.case_id
    await simulator_of(world.app.state).pushes.drain()  # type: ignore[attr-defined]
    assert [(e.code, e.status) for e in world.gateway.events] == [("9", ShipmentStatus.CANCELLED)]

    later = await world.provider.book(replace(ORDER, reference="shp_too_late"))
    await world.advance(later.carrier_order_id)
    refused = await world.provider.cancel(later.carrier_order_id)
    assert not refused.accepted and "không thể hủy" in refused.message


async def test_an_expired_token_is_renewed_without_the_caller_noticing(world: World) -> None:
    await world.provider.book(replace(ORDER, reference="shp_token_1"))
    assert (await world.sim.post("/_sim/vnpost/tokens/expire")).json() == {"expired": 1}
    await world.provider.book(replace(ORDER, reference="shp_token_2"))
    assert len(simulator_of(world.app.state).store.tokens) == 1  # type: ignore[attr-defined]


async def test_a_push_from_the_simulator_is_refused_by_a_gateway_with_another_key(world: World) -> None:
    from tests.adapters.vnpost.conftest import KeyPair

    world.gateway.provider = VNPostProvider(replace(world.provider.config, push_public_key_pem=KeyPair().public_pem))
    booking = await world.provider.book(replace(ORDER, reference="shp_wrong_key"))
    await world.advance(booking.carrier_order_id)
    assert world.gateway.refused == 1 and world.gateway.events == []
    order = (await world.sim.get(f"/_sim/vnpost/orders/{booking.carrier_order_id}")).json()
    assert order["pushes"][0]["acknowledged"] is False  # so VNPost would send it again


async def test_an_unknown_service_is_refused_by_the_simulator(world: World) -> None:
    with pytest.raises(ProviderRejected, match="Mã dịch vụ"):
        await world.provider.book(replace(ORDER, reference="shp_bad", service="PTN001"))
