"""All of the adapter's I/O: POSTs of JSON to MoMo's /v2/gateway/api/* endpoints."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http import json_answer, retrying
from adapters.http import strict_json as shared_strict_json
from adapters.momo.wire import Number

PROVIDER = "momo"


def strict_json(raw: bytes) -> Any:
    """JSON as MoMo writes it, read strictly, every number kept as the text it was written in
    (wire.Number), since MoMo signs that text."""
    return shared_strict_json(raw, number=Number)


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
        # Every number kept as the text it was written in (wire.Number), since MoMo signs that text.
        request = self._http().build_request("POST", path, json=body)
        return await json_answer(self._http(), PROVIDER, request, what=path, number=Number)

    async def call(self, path: str, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        async for attempt in retrying(idempotent=idempotent):
            with attempt:
                return await self._post_once(path, body)
        raise AssertionError("unreachable: tenacity reraises the last error")
