"""All of the adapter's I/O: payOS's merchant API under one base URL."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http import retrying
from adapters.payos.config import PayOSConfig
from contracts.errors import ProviderRejected, ProviderUnavailable

PROVIDER = "payos"
MAX_ANSWER_BYTES = 65_536


class PayOSClient:
    def __init__(self, config: PayOSConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._config = config
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        # Made on first use, and again after aclose: an app's lifespan may end and start again in one
        # process (schemathesis runs one per test), and the provider outlives it.
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self._config.api_url,
                timeout=httpx.Timeout(self._config.timeout_seconds, connect=5.0),
                transport=self._transport,
                follow_redirects=False,  # OWASP API10: never follow a provider's redirect with our payload
                headers={"x-client-id": self._config.client_id, "x-api-key": self._config.api_key},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _once(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(PROVIDER, f"{type(exc).__name__} calling {method} {path}") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(PROVIDER, f"API answered HTTP {response.status_code}")
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise ProviderRejected(PROVIDER, f"API answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(PROVIDER, "API answered with something that is not JSON") from exc
        if not isinstance(data, dict):
            raise ProviderUnavailable(PROVIDER, "API answered with a JSON value that is not an object")
        return data

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, idempotent: bool
    ) -> dict[str, Any]:
        async for attempt in retrying(idempotent=idempotent):
            with attempt:
                return await self._once(method, path, body)
        raise AssertionError("unreachable: tenacity reraises the last error")
