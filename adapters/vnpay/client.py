"""All of the adapter's I/O: one POST to VNPay's merchant web API."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http import json_answer, retrying

PROVIDER = "vnpay"


class VNPayClient:
    def __init__(self, api_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._api_url = api_url
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            follow_redirects=False,  # OWASP API10: never follow a provider's redirect with our payload
            headers={"Content-Type": "application/json"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post_once(self, body: dict[str, str]) -> dict[str, Any]:
        request = self._http.build_request("POST", self._api_url, json=body)
        return await json_answer(self._http, PROVIDER, request, what="merchant API")

    async def call(self, body: dict[str, str], *, idempotent: bool) -> dict[str, Any]:
        async for attempt in retrying(idempotent=idempotent):
            with attempt:
                return await self._post_once(body)
        raise AssertionError("unreachable: tenacity reraises the last error")
