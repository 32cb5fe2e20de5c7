"""All of the adapter's I/O: POSTs of JSON to MoMo's /v2/gateway/api/* endpoints."""

from __future__ import annotations

import json
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from adapters.momo.wire import Number
from contracts.errors import ProviderRejected, ProviderUnavailable

PROVIDER = "momo"
# Bound what is read of an answer: MoMo's are a few hundred bytes, a query with refunds a few kB.
MAX_ANSWER_BYTES = 256 * 1024


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key is written twice")
    return dict(pairs)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def strict_json(raw: bytes) -> Any:
    """JSON as MoMo writes it, read strictly: UTF-8, no key twice, no NaN, every number kept as the text
    it was written in (wire.Number), since MoMo signs that text."""
    return json.loads(
        raw.decode("utf-8"),
        object_pairs_hook=_no_duplicates,
        parse_int=Number,
        parse_float=Number,
        parse_constant=_refuse_constant,
    )


def _never_reached_momo(exc: BaseException) -> bool:
    # Only a request that certainly never left is safe to send again for a create or a refund; one that
    # timed out after sending may have been acted on.
    return isinstance(exc, ProviderUnavailable) and isinstance(exc.__cause__, httpx.ConnectError)


def _read_is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderUnavailable)


class MoMoClient:
    def __init__(self, api_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._api_url = api_url
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Made on first use, and again after aclose: every create is a call, and an app whose lifespan has
        # ended and started again (a server reloading, an ASGI test harness) keeps its providers.
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self._api_url,
                timeout=httpx.Timeout(self._timeout, connect=5.0),
                transport=self._transport,
                follow_redirects=False,  # OWASP API10: never follow a provider's redirect with our payload
                headers={"Content-Type": "application/json; charset=UTF-8"},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _post_once(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._http().post(path, json=body)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(PROVIDER, f"{type(exc).__name__} calling {path}") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(PROVIDER, f"{path} answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise ProviderRejected(PROVIDER, f"{path} answered HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise ProviderUnavailable(PROVIDER, f"{path} answered more than {MAX_ANSWER_BYTES} bytes")
        try:
            data = strict_json(response.content)
        except ValueError as exc:
            raise ProviderUnavailable(PROVIDER, f"{path} answered with something that is not strict JSON") from exc
        if not isinstance(data, dict):
            raise ProviderUnavailable(PROVIDER, f"{path} answered with a JSON value that is not an object")
        return data

    async def call(self, path: str, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_read_is_retryable if idempotent else _never_reached_momo),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._post_once(path, body)
        raise AssertionError("unreachable: tenacity reraises the last error")
