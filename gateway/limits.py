"""Rate limits and the size caps of provider callbacks.

- Per API key, on the portal API (/v1): `rate_limit_per_key` requests a window, counted once the key
  is known good (gateway/deps.py, provide_client).
- Per source address: wrong or missing API keys (`rate_limit_auth_failures_per_address`, only failures
  count), provider callbacks (/callbacks/...) and the demo (/demo), every request counting.
- Past a limit the answer is a 429 problem with Retry-After: the seconds left in the window.
- A callback whose query string or declared body (Content-Length) is over its bound is refused with 414
  or 413 before anything reads it (VNPay's IPN is a GET with a query under 1 KB). A body sent without a
  length is never read by a callback handler; one that is read stays under request_max_body_bytes.

Counting. Fixed windows of `rate_limit_window_seconds`, one counter per limit, key and window, in the
table rate_limit_counters, raised by one statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, on
SQLite 3.35+ and PostgreSQL alike): atomic, so several gateway processes on one PostgreSQL share their
counts exactly. It commits on a session of its own, beside the request's. The windows past are purged
by the hourly jobs (gateway/workers.py). With `rate_limit_store = "memory"` the counters are this
process's own, for a gateway that is one process.

Not Litestar's RateLimitMiddleware with a Store: it reads a key's whole history (a timestamp per
request, thousands at the per-key limit) and writes it back, so two processes on a shared store lose
each other's requests; it counts every request before the handler, where wrong keys must be counted
only when they fail; and it sends no Retry-After.

A process that has seen a counter pass its limit refuses that key at once for the rest of the window,
without asking the database: a flood costs the database one statement per process and window once it
is refused. For wrong keys that means the address is refused on /v1 whatever key it sends next.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from litestar import Request
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.auth import Caller, authenticate, presented_key
from gateway.clock import Clock
from gateway.db.counters import count_one
from gateway.db.models import RateLimitCounter
from gateway.errors import Unauthorized
from gateway.problems import TYPE_BASE
from gateway.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PURGE_BATCH = 5000


def too_many(detail: str, retry_after: int) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=429,
        type_=TYPE_BASE + "rate-limited",
        title="Too many requests",
        detail=f"{detail} Try again in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )


def too_large(status: int, detail: str) -> ProblemDetailsException:
    slug, title = ("uri-too-long", "URI too long") if status == 414 else ("content-too-large", "Content too large")
    return ProblemDetailsException(status_code=status, type_=TYPE_BASE + slug, title=title, detail=detail)


class Counters(Protocol):
    async def add(self, key: str, window: datetime) -> int:
        """Count one request for `key` in the window starting at `window`; the count so far, this one in."""

    async def purge(self, before: datetime) -> int:
        """Forget the windows that started before `before`."""


class DatabaseCounters:
    def __init__(self, sessionmaker: async_sessionmaker[Any], batch: int = PURGE_BATCH) -> None:
        self._sessionmaker = sessionmaker
        self._batch = batch

    async def add(self, key: str, window: datetime) -> int:
        async with self._sessionmaker() as session:
            hits = await count_one(session, {"key": key, "window_start": window}, RateLimitCounter.hits)
            await session.commit()
        return hits

    async def purge(self, before: datetime) -> int:
        # A batch per transaction, as gateway/idempotency.py purges: one statement over an hour of addresses
        # would hold the write lock (on SQLite, the whole database's) until it finished.
        table = RateLimitCounter
        purged = 0
        while True:
            old = select(table.key, table.window_start).where(table.window_start < before).limit(self._batch)
            async with self._sessionmaker() as session:
                result = await session.execute(
                    delete(table).where(tuple_(table.key, table.window_start).in_(old.scalar_subquery()))
                )
                await session.commit()
            count = int(getattr(result, "rowcount", 0) or 0)
            purged += count
            if count < self._batch:
                return purged


class MemoryCounters:
    """Each key's current window only: a key seen in a new window starts again from one."""

    MAX_ENTRIES = 100_000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[datetime, int]] = {}

    async def add(self, key: str, window: datetime) -> int:
        start, count = self._counts.get(key, (window, 0))
        count = count + 1 if start == window else 1
        if len(self._counts) >= self.MAX_ENTRIES and key not in self._counts:
            self._counts.clear()  # a flood of new addresses: forgetting costs less than growing without end
        self._counts[key] = (window, count)
        return count

    async def purge(self, before: datetime) -> int:
        old = [key for key, (start, _) in self._counts.items() if start < before]
        for key in old:
            del self._counts[key]
        return len(old)


class Limiter:
    MAX_REFUSED = 10_000

    def __init__(self, counters: Counters, clock: Clock, window_seconds: int) -> None:
        self.counters = counters
        self._clock = clock
        self._window = window_seconds
        # Keys this process has seen over their limit, with the window they are over in.
        self._refused: dict[str, datetime] = {}

    def _now(self) -> tuple[datetime, int]:
        """The current window's start, and the whole seconds left in it (at least 1)."""
        now = self._clock.now().timestamp()
        start = int(now // self._window) * self._window
        return datetime.fromtimestamp(start, UTC), max(1, math.ceil(start + self._window - now))

    def refuse_if_over(self, key: str, detail: str) -> None:
        """429 if this process has seen `key` over its limit in the current window."""
        window, left = self._now()
        if self._refused.get(key) == window:
            raise too_many(detail, left)

    async def hit(self, key: str, limit: int, detail: str) -> None:
        """Count a request for `key` (at most 100 characters); 429 if that makes more than `limit` in the
        window."""
        self.refuse_if_over(key, detail)
        window, left = self._now()
        if await self.counters.add(key, window) > limit:
            if len(self._refused) >= self.MAX_REFUSED:
                self._refused.clear()
            self._refused[key] = window
            raise too_many(detail, left)

    async def purge(self) -> int:
        """Forget the windows before the last one (an hourly job). The last one is kept: a process whose
        clock runs a little behind may still be counting in it."""
        window, _ = self._now()
        return await self.counters.purge(window - timedelta(seconds=self._window))


def build_limiter(settings: Settings, sessionmaker: async_sessionmaker[Any], clock: Clock) -> Limiter:
    shared = settings.rate_limit_store == "database"
    counters: Counters = DatabaseCounters(sessionmaker) if shared else MemoryCounters()
    return Limiter(counters, clock, settings.rate_limit_window_seconds)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def source_address(scope: Scope, trusted: Iterable[Network] = ()) -> str:
    """Whom to count a request against: the connection's peer; when that is a trusted proxy, the last
    address in X-Forwarded-For that is not one (the addresses before it are the client's to write).
    An IPv6 source counts by its /64, which one subscriber usually holds whole."""
    client = scope.get("client")
    peer = client[0] if client else ""
    address = _address(peer)
    trusted = tuple(trusted)
    if address is not None and trusted and any(address in net for net in trusted):
        hops = [hop for name, value in scope["headers"] if name == b"x-forwarded-for" for hop in value.split(b",")]
        for hop in reversed(hops):
            forwarded = _address(hop.decode("latin-1"))
            if forwarded is None:
                break  # not an address: the proxy's own is the best known
            address = forwarded
            if not any(forwarded in net for net in trusted):
                break
    if address is None:
        return peer[:64]
    if address.version == 6:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


async def authenticated(request: Request[Any, Any, Any], state: State) -> Caller:
    """The caller of the request's API key, with its key's limit and its address's wrong-key limit."""
    settings: Settings = state.settings
    limiter: Limiter = state.limiter
    failures = "auth:" + source_address(request.scope, settings.trusted_proxies)
    refused = "Too many requests with a wrong or missing API key from this address."
    limiter.refuse_if_over(failures, refused)
    try:
        caller = await authenticate(state.read_sessionmaker, presented_key(request), state.callers, state.clock)
    except Unauthorized:
        await limiter.hit(failures, settings.rate_limit_auth_failures_per_address, refused)
        raise
    await limiter.hit("key:" + caller.id, settings.rate_limit_per_key, "Too many requests with this API key.")
    return caller


CARRIER_PUSH_PATH = "/callbacks/vnpost"


def _per_address(settings: Settings, path: str) -> tuple[str, int] | None:
    if path.startswith("/callbacks/"):
        return "callbacks", settings.rate_limit_callbacks_per_address
    if path == "/demo" or path.startswith("/demo/"):
        return "demo", settings.rate_limit_demo_per_address
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class LimitsMiddleware(ASGIMiddleware):
    """The per-address limits and the callbacks' size caps, before the handler (and the body) is touched.
    A refusal is sent from here, through the middleware outside it (request id, access line)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: Settings, limiter: Limiter) -> None:
        self._settings = settings
        self._limiter = limiter

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        limit = _per_address(self._settings, scope["path"])
        if limit is not None:
            try:
                await self._check(scope, *limit)
            except ProblemDetailsException as exc:
                request: Request[Any, Any, Any] = Request(scope)
                await exc.to_response(request).to_asgi_response(app=None, request=request)(scope, receive, send)
                return
        await next_app(scope, receive, send)

    async def _check(self, scope: Scope, kind: str, limit: int) -> None:
        settings = self._settings
        if kind == "callbacks":
            if len(scope["query_string"]) > settings.callback_max_query_bytes:
                raise too_large(414, f"A callback's query string is at most {settings.callback_max_query_bytes} bytes.")
            cap = (
                settings.carrier_push_max_body_bytes
                if scope["path"].rstrip("/") == CARRIER_PUSH_PATH
                else settings.callback_max_body_bytes
            )
            length = _content_length(scope)
            if length is not None and length > cap:
                raise too_large(413, f"A callback's body is at most {cap} bytes.")
        address = source_address(scope, settings.trusted_proxies)
        await self._limiter.hit(f"{kind}:{address}", limit, f"Too many requests to /{kind} from this address.")
