"""simulators/kit: what the four simulators' notifiers share."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from simulators.kit.courier import Courier, HeldBack
from simulators.kit.faults import ApiFaults

pytestmark = pytest.mark.anyio


def test_held_back_keeps_one_until_it_is_released() -> None:
    held: HeldBack[str] = HeldBack()
    assert held.hold("first") is True
    assert held.hold("second") is False  # goes out now; the first after it
    assert held.release() == ["first"] and held.release() == []


def test_api_faults_use_up_their_503s_and_refuse_a_coerced_switch() -> None:
    faults = ApiFaults(api_http_5xx=2)
    assert [faults.take_http_5xx() for _ in range(3)] == [True, True, False]
    with pytest.raises(ValueError):
        ApiFaults.model_validate({"api_http_5xx": "2"})


async def test_send_answers_the_response_or_what_went_wrong() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    ok = Courier(5, httpx.MockTransport(lambda request: httpx.Response(204)))
    down = Courier(5, httpx.MockTransport(refuse))
    response, error = await ok.send("POST", "http://merchant.test/ipn", json={})
    assert (response is not None and response.status_code, error) == (204, None)
    response, error = await down.send("GET", "http://merchant.test/ipn")
    assert response is None and error is not None and error.startswith("ConnectError")
    await ok.aclose()
    await down.aclose()


async def test_send_keeps_the_deadline_on_a_transport_that_ignores_timeouts() -> None:
    async def never_answers(scope: object, receive: object, send: object) -> None:
        await asyncio.Event().wait()

    courier = Courier(0.05, httpx.ASGITransport(app=never_answers))
    response, error = await courier.send("POST", "http://merchant.test/ipn")
    assert response is None and error == "timeout after 0.05s"
    await courier.aclose()


async def test_redeliver_stops_once_settled_or_when_the_schedule_runs_out() -> None:
    courier = Courier(5, None)
    sent: list[int] = []

    async def again() -> None:
        sent.append(len(sent))

    assert await courier.redeliver((0, 0, 0, 0), lambda: len(sent) >= 2, again) is True
    assert sent == [0, 1]
    sent.clear()
    assert await courier.redeliver((0, 0), lambda: False, again) is False
    assert sent == [0, 1]


async def test_shutdown_cancels_what_waits_and_a_failure_in_the_background_is_only_logged() -> None:
    courier = Courier(5, None)
    courier.spawn(asyncio.sleep(3600))

    class Log:
        events: list[str] = []

        def exception(self, event: str, **fields: object) -> None:
            self.events.append(event)

    async def fails() -> None:
        raise RuntimeError("boom")

    log = Log()
    courier.spawn_quietly(fails(), log, "notify_failed")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert log.events == ["notify_failed"] and courier.pending == 1
    await courier.aclose()
    assert courier.pending == 0
