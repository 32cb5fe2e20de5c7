"""All of the adapter's I/O: form POSTs to ZaloPay's Open API v2."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http import json_answer, retrying

PROVIDER = "zalopay"


class ZaloPayClient:
    def __init__(self, api_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._api_url = api_url
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        # Made on first use and again after aclose: the app closes its providers at shutdown, and an app
        # started again (its lifespan run anew) keeps the same provider objects.
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout, connect=5.0),
                transport=self._transport,
                follow_redirects=False,  # OWASP API10: never follow a provider's redirect with our payload
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _post_once(self, path: str, body: dict[str, str]) -> dict[str, Any]:
        request = self._http.build_request("POST", f"{self._api_url}{path}", data=body)
        return await json_answer(self._http, PROVIDER, request, what=path)

    async def call(self, path: str, body: dict[str, str], *, idempotent: bool) -> dict[str, Any]:
        async for attempt in retrying(idempotent=idempotent):
            with attempt:
                return await self._post_once(path, body)
        raise AssertionError("unreachable: tenacity reraises the last error")
