"""The adapter's client sends an idempotent query again when the provider could not answer, and never sends
a refund again once it may have reached the provider: a refund acted on twice pays the citizen twice.

Between attempts the client waits its own back-off; nothing here measures it.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from contracts.errors import ProviderError, ProviderUnavailable
from contracts.providers import Capability, ProviderOutcome
from tests.conformance.kit import PAYMENT, REFUND, Kit
from tests.conformance.kits import KITS, by_kit, codes_for

Failure = Callable[[httpx.Request], httpx.Response]


def _raise(error: type[httpx.TransportError]) -> Failure:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return fail


def _status(code: int) -> Failure:
    return lambda request: httpx.Response(code, text="Service Unavailable")


UNREACHED: dict[str, Failure] = {"connection refused": _raise(httpx.ConnectError)}
# The request may have arrived and been acted on: only the provider knows.
MAYBE_ARRIVED: dict[str, Failure] = {
    "read timeout": _raise(httpx.ReadTimeout),
    "write timeout": _raise(httpx.WriteTimeout),
    "connection reset while reading": _raise(httpx.ReadError),
    "disconnected without an answer": _raise(httpx.RemoteProtocolError),
    "HTTP 500": _status(500),
    "HTTP 502": _status(502),
    "HTTP 503": _status(503),
    "HTTP 504": _status(504),
}


def _failures(kit: Kit) -> list[tuple[str, Failure]]:
    return list({**UNREACHED, **MAYBE_ARRIVED}.items())


def _maybe_arrived(kit: Kit) -> list[tuple[str, Failure]]:
    return list(MAYBE_ARRIVED.items())


def _refunds(kit: Kit) -> Kit:
    if Capability.REFUND not in kit.provider().capabilities:
        pytest.skip(f"{kit.name} makes no refunds")
    return kit


def _then(failure: Failure, answer: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """`failure` for the first request, `answer` after it."""
    calls: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return failure(request) if len(calls) == 1 else answer

    return respond


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "failure"), by_kit(_failures, lambda row: row[0]))
async def test_a_query_is_sent_again_after_a_failure(kit: Kit, failure: tuple[str, Failure]) -> None:
    answer = kit.query_answer(codes_for(kit.query_outcomes, ProviderOutcome.SUCCEEDED))
    with respx.mock() as router:
        route = kit.query_route(router).mock(side_effect=_then(failure[1], answer))
        result = await kit.provider().query(PAYMENT)
    assert result.outcome is ProviderOutcome.SUCCEEDED
    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
async def test_a_query_gives_up_as_unavailable(kit: Kit) -> None:
    with respx.mock() as router:
        route = kit.query_route(router).mock(side_effect=_raise(httpx.ConnectError))
        with pytest.raises(ProviderUnavailable):
            await kit.provider().query(PAYMENT)
    assert route.call_count == kit.query_attempts


@pytest.mark.anyio
@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
async def test_a_query_the_provider_refused_is_not_sent_again(kit: Kit) -> None:
    with respx.mock() as router:
        route = kit.query_route(router).mock(side_effect=_status(400))
        with pytest.raises(ProviderError):
            await kit.provider().query(PAYMENT)
    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "failure"), by_kit(_maybe_arrived, lambda row: row[0]))
async def test_a_refund_that_may_have_arrived_is_never_sent_again(kit: Kit, failure: tuple[str, Failure]) -> None:
    provider = _refunds(kit).provider()
    answer = kit.refund_answer(codes_for(kit.refund_outcomes, ProviderOutcome.SUCCEEDED))
    with respx.mock() as router:
        route = kit.refund_route(router).mock(side_effect=_then(failure[1], answer))
        with pytest.raises(ProviderUnavailable):
            await provider.refund(REFUND)
    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
async def test_a_refund_that_never_left_is_sent_again(kit: Kit) -> None:
    provider = _refunds(kit).provider()
    answer = kit.refund_answer(codes_for(kit.refund_outcomes, ProviderOutcome.SUCCEEDED))
    with respx.mock() as router:
        route = kit.refund_route(router).mock(side_effect=_then(_raise(httpx.ConnectError), answer))
        result = await provider.refund(REFUND)
    assert result.outcome is ProviderOutcome.SUCCEEDED
    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
async def test_a_refund_that_never_left_gives_up_as_unavailable(kit: Kit) -> None:
    provider = _refunds(kit).provider()
    with respx.mock() as router:
        route = kit.refund_route(router).mock(side_effect=_raise(httpx.ConnectError))
        with pytest.raises(ProviderUnavailable):
            await provider.refund(REFUND)
    assert route.call_count == kit.refund_attempts_unreached
