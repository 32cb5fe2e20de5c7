"""What every adapter's client and parser share: one capped, strict read of a JSON answer, and when a
provider call may be sent again."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from contracts.errors import ProviderRejected, ProviderUnavailable

ATTEMPTS = 3
# The most of an answer that is read: every provider's is a few hundred bytes, a MoMo query listing refunds
# a few kB. A longer one is not read to its end (a hostile or broken host cannot fill the gateway's memory).
MAX_ANSWER_BYTES = 256 * 1024


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key is written twice")
    return result


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def strict_json(raw: str | bytes, number: Callable[[str], Any] | None = None) -> Any:
    """JSON read strictly: UTF-8, no key written twice, no NaN or Infinity. `number`, when given, reads
    every number from the text it was written in (for a provider that signs that text)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if number is None:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant)
    return json.loads(
        text,
        object_pairs_hook=_no_duplicate_keys,
        parse_int=number,
        parse_float=number,
        parse_constant=_refuse_constant,
    )


async def _read_capped(response: httpx.Response, provider: str, what: str, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ProviderUnavailable(provider, f"{what} answered more than {max_bytes} bytes")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise ProviderUnavailable(provider, f"{what} answered more than {max_bytes} bytes")
    return bytes(body)


async def json_answer(
    http: httpx.AsyncClient,
    provider: str,
    request: httpx.Request,
    *,
    what: str,
    number: Callable[[str], Any] | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> dict[str, Any]:
    """Send `request` and read its answer, at most `max_bytes` of it, as a strict JSON object (`number` as
    strict_json takes it). ProviderUnavailable when the outcome is unknown: no answer, a 5xx, one too long
    or unreadable; ProviderRejected for any other status than 200."""
    try:
        response = await http.send(request, stream=True)
    except httpx.TransportError as exc:
        raise ProviderUnavailable(provider, f"{type(exc).__name__} calling {what}") from exc
    try:
        if response.status_code >= 500:
            raise ProviderUnavailable(provider, f"{what} answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise ProviderRejected(provider, f"{what} answered HTTP {response.status_code}")
        try:
            body = await _read_capped(response, provider, what, max_bytes)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(provider, f"{type(exc).__name__} reading the answer of {what}") from exc
    finally:
        await response.aclose()
    try:
        data = strict_json(body, number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProviderUnavailable(provider, f"{what} answered with something that is not strict JSON") from exc
    if not isinstance(data, dict):
        raise ProviderUnavailable(provider, f"{what} answered with a JSON value that is not an object")
    return data


def _never_reached(exc: BaseException) -> bool:
    # Only a request that certainly never left is safe to send again for every command (a create or a
    # refund included): one that timed out after sending may have been acted on.
    return isinstance(exc, ProviderUnavailable) and isinstance(exc.__cause__, httpx.ConnectError)


def _unavailable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderUnavailable)


def retrying(*, idempotent: bool) -> AsyncRetrying:
    """Up to ATTEMPTS tries with a short back-off: a read after any ProviderUnavailable, a command only if
    it never reached the provider."""
    return AsyncRetrying(
        retry=retry_if_exception(_unavailable if idempotent else _never_reached),
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=0.2, max=2),
        reraise=True,
    )
