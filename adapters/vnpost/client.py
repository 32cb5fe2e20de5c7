"""All of the adapter's I/O: JSON calls to MyVNPost's /customer-partner/* paths with a `token` header,
got from GetAccessToken and renewed when it is old or refused (once per call)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from adapters.http import retrying
from adapters.vnpost import requests, responses
from adapters.vnpost.config import VNPostConfig
from contracts.errors import ProviderRejected, ProviderUnavailable

PROVIDER = responses.PROVIDER
# MyVNPost's answers are small; a tracking answer with a thousand events is well under this.
MAX_ANSWER_BYTES = 1024 * 1024


class _TokenRefused(Exception):
    """HTTP 401: the token is unknown or expired."""


class VNPostClient:
    def __init__(
        self,
        config: VNPostConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._transport = transport
        self._clock = clock
        self._client: httpx.AsyncClient | None = None
        self._token: str | None = None
        self._token_at = 0.0
        self._login_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def _http(self) -> httpx.AsyncClient:
        # Made on first use, and again after aclose (an app whose lifespan ended and started again).
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self._config.api_url,
                timeout=httpx.Timeout(self._config.timeout_seconds, connect=5.0),
                transport=self._transport,
                follow_redirects=False,  # never follow a carrier's redirect with our payload
                headers={"Content-Type": "application/json"},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, params: dict[str, str] | None, token: str | None
    ) -> Any:
        headers = {"token": token} if token else {}
        # json.dumps as MyVNPost's own clients write it (non-ASCII escaped, §2.1.1).
        content = None if body is None else json.dumps(body).encode()
        try:
            response = await self._http().request(method, path, content=content, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(PROVIDER, f"{type(exc).__name__} calling {path}") from exc
        if response.status_code == 401 and token is not None:
            raise _TokenRefused
        if response.status_code >= 500:
            raise ProviderUnavailable(PROVIDER, f"{path} answered HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise ProviderUnavailable(PROVIDER, f"{path} answered more than {MAX_ANSWER_BYTES} bytes")
        try:
            data = responses.strict_json(response.content)
        except (ValueError, UnicodeDecodeError):
            data = None
        # Success is HTTP 200 exactly; an error is a JSON object with `message` (§2.1.1).
        if response.status_code != 200:
            message = data.get("message") if isinstance(data, dict) else None
            raise ProviderRejected(
                PROVIDER,
                f"{path} answered HTTP {response.status_code}: {str(message or '')[:200]}",
                codes={"http_status": str(response.status_code)},
            )
        if data is None:
            raise ProviderUnavailable(PROVIDER, f"{path} answered with something that is not strict JSON")
        return data

    def _login(self) -> asyncio.Lock:
        # One login at a time per event loop: an app served again on a new loop (a reload, a test
        # harness) must not wait on a lock bound to the old one.
        loop = asyncio.get_running_loop()
        if self._login_lock is None or self._login_lock[0] is not loop:
            self._login_lock = (loop, asyncio.Lock())
        return self._login_lock[1]

    async def _current_token(self, stale: str | None = None) -> str:
        async with self._login():
            fresh = self._token is not None and self._clock() - self._token_at < self._config.token_ttl_seconds
            if fresh and self._token != stale:
                assert self._token is not None
                return self._token
            answer = await self._send("POST", requests.TOKEN_PATH, requests.token_body(self._config), None, None)
            self._token = responses.parse_token(answer)
            self._token_at = self._clock()
            return self._token

    async def _call_once(
        self, method: str, path: str, body: dict[str, Any] | None, params: dict[str, str] | None
    ) -> Any:
        token = await self._current_token()
        try:
            return await self._send(method, path, body, params, token)
        except _TokenRefused:
            pass
        # Refused: renewed once, and the call made again; a refused request was not acted on.
        token = await self._current_token(stale=token)
        try:
            return await self._send(method, path, body, params, token)
        except _TokenRefused:
            message = f"{path} refused a token just issued"
            raise ProviderRejected(PROVIDER, message, codes={"http_status": "401"}) from None

    async def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        idempotent: bool,
    ) -> Any:
        async for attempt in retrying(idempotent=idempotent):
            with attempt:
                return await self._call_once(method, path, body, params)
        raise AssertionError("unreachable: tenacity reraises the last error")
