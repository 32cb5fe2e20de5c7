"""What every adapter's client and parser share: strict JSON, and when a provider call may be sent again."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from contracts.errors import ProviderUnavailable

ATTEMPTS = 3


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
