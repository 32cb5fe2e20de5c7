"""All of the adapter's I/O: payOS's merchant API under one base URL."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http import json_answer, retrying
from adapters.payos.config import PayOSConfig

PROVIDER = "payos"


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
        request = self._http.build_request(method, path, json=body)
        return await json_answer(self._http, PROVIDER, request, what=f"{method} {path}")

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, idempotent: bool
    ) -> dict[str, Any]:
        async for attempt in retrying(idempotent=idempotent):
            with attempt:
                return await self._once(method, path, body)
        raise AssertionError("unreachable: tenacity reraises the last error")
