"""How every simulator delivers its notifications to the merchant, whatever their protocol.

A provider sends a notification, and sends it again on its schedule until the merchant acknowledges it as
the provider's protocol says; what counts as acknowledged, what is sent and what is recorded of each
attempt stay with each simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

import httpx

T = TypeVar("T")


class Courier:
    def __init__(self, timeout: float, transport: httpx.AsyncBaseTransport | None, *, grace: float = 0.0) -> None:
        """`timeout`: how long the merchant has to answer; `grace`: how long shutdown lets a delivery on its
        way finish (a provider's own request would not be cut off half way through the merchant's handling)."""
        self.timeout = timeout
        self._transport = transport
        self._grace = grace
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, follow_redirects=False, timeout=self.timeout)
        return self._client

    async def send(self, method: str, url: str, **request: Any) -> tuple[httpx.Response | None, str | None]:
        """One request to the merchant: its answer, or what went wrong instead."""
        try:
            # ASGI transports ignore httpx timeouts: the deadline is kept here for every transport.
            async with asyncio.timeout(self.timeout):
                return await self._http().request(method, url, **request), None
        except TimeoutError:
            return None, f"timeout after {self.timeout:g}s"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"

    @property
    def pending(self) -> int:
        """How many deliveries are on their way or waiting to be sent again."""
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def spawn_quietly(self, coro: Coroutine[Any, Any, object], log: Any, event: str, **fields: Any) -> None:
        """Run `coro` in the background; a failure is logged as `event`, as there is no caller to tell."""

        async def quietly() -> None:
            try:
                await coro
            except Exception:
                log.exception(event, **fields)

        self.spawn(quietly())

    async def redeliver(
        self,
        intervals: tuple[float, ...],
        settled: Callable[[], bool],
        again: Callable[[], Awaitable[object]],
    ) -> bool:
        """Send again after each wait of `intervals` until `settled()` (acknowledged, refused, or dropped by a
        fault): whether it ended settled rather than with the schedule run out."""
        for wait in intervals:
            await asyncio.sleep(wait)
            if settled():
                return True
            await again()
            if settled():
                return True
        return False

    async def drain(self) -> None:
        """Wait for every delivery in flight and every re-delivery scheduled (tests settle with this)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        if tasks and self._grace:
            await asyncio.wait(tasks, timeout=self._grace)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class HeldBack(Generic[T]):
    """The out-of-order fault: one notification held back until the next one has gone out."""

    def __init__(self) -> None:
        self._held: list[T] = []

    def hold(self, item: T) -> bool:
        """Hold `item` if nothing is held yet (True); otherwise it goes out now, the held one after it."""
        if self._held:
            return False
        self._held.append(item)
        return True

    def release(self) -> list[T]:
        held, self._held = self._held, []
        return held
