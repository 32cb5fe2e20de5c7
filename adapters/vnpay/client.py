"""All of the adapter's I/O: one POST to VNPay's merchant web API."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http import retrying
from contracts.errors import ProviderRejected, ProviderUnavailable

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
        try:
            response = await self._http.post(self._api_url, json=body)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(PROVIDER, f"{type(exc).__name__} calling merchant API") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(PROVIDER, f"merchant API answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise ProviderRejected(PROVIDER, f"merchant API answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(PROVIDER, "merchant API answered with something that is not JSON") from exc
        if not isinstance(data, dict):
            raise ProviderUnavailable(PROVIDER, "merchant API answered with a JSON value that is not an object")
        return data

    async def call(self, body: dict[str, str], *, idempotent: bool) -> dict[str, Any]:
        async for attempt in retrying(idempotent=idempotent):
            with attempt:
                return await self._post_once(body)
        raise AssertionError("unreachable: tenacity reraises the last error")
