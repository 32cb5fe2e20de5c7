"""Portal clients authenticate with an API key; only its SHA-256 is stored.

A key is rotated (`dvc-gateway clients rotate-key`): the new one works at once and the one it replaces
until the end of an overlap, so the portal can switch without a gap; a client is revoked
(`dvc-gateway clients revoke`) by deactivating it. Each process remembers a valid key for
`auth_cache_seconds` (CallerCache), so a revocation, or a rotation without overlap, is refused everywhere
within that time; a key remembered by its previous hash is forgotten when its overlap ends.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Request
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.clock import clock as default_clock
from gateway.db.models import Client
from gateway.errors import Conflict, Unauthorized
from gateway.ids import new_id

KEY_PREFIX = "dvcgw_"
_CALLER_BY_KEY_HASH = select(Client.id, Client.name, Client.api_key_hash, Client.previous_key_expires_at).where(
    Client.active,
    or_(
        Client.api_key_hash == bindparam("key_hash"),
        and_(Client.previous_api_key_hash == bindparam("key_hash"), Client.previous_key_expires_at > bindparam("now")),
    ),
)


def hash_key(api_key: str) -> str:
    # A random 256-bit key needs no slow hash: there is nothing to brute-force.
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_client(name: str, now: datetime, webhook_url: str | None = None) -> tuple[Client, str]:
    api_key = _new_key()
    client = Client(
        id=new_id("cli"),
        name=name,
        api_key_hash=hash_key(api_key),
        api_key_prefix=api_key[:12],
        webhook_url=webhook_url,
        webhook_secret=new_webhook_secret(),
        active=True,
        created_at=now,
    )
    return client, api_key


def rotate_key(client: Client, now: datetime, overlap: timedelta) -> str:
    """Gives `client` a new API key, returned (it is not stored); the current one stays valid for `overlap`,
    and one an earlier rotation left valid is refused from now on."""
    if not client.active:
        raise Conflict(f"Client {client.id} is revoked; its keys cannot be rotated.")
    api_key = _new_key()
    keep = overlap > timedelta(0)
    client.previous_api_key_hash = client.api_key_hash if keep else None
    client.previous_key_expires_at = now + overlap if keep else None
    client.api_key_hash = hash_key(api_key)
    client.api_key_prefix = api_key[:12]
    return api_key


def revoke(client: Client) -> None:
    """Refuses every key of `client` (within the callers' cache time)."""
    client.active = False
    client.previous_api_key_hash = None
    client.previous_key_expires_at = None


def presented_key(request: Request[Any, Any, Any]) -> str | None:
    # From the raw ASGI header list (names come lowercased): building Litestar's Headers object for two
    # lookups cost more than the rest of authenticating a cached key.
    auth = api_key = None
    for name, value in request.scope["headers"]:
        if name == b"authorization" and auth is None:
            auth = value.decode("latin-1")
        elif name == b"x-api-key" and api_key is None:
            api_key = value.decode("latin-1")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return api_key


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: all a request needs of its client, and safe to keep between requests."""

    id: str
    name: str

    @classmethod
    def of(cls, client: Client) -> Caller:
        return cls(id=client.id, name=client.name)


class CallerCache:
    """Valid API keys seen recently, by hash. Only successes are kept: a key that fails is asked
    about again, so a new client works at once; a deactivated one stops within `ttl` seconds."""

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._now = now
        self._entries: dict[str, tuple[Caller, float]] = {}

    def get(self, key_hash: str) -> Caller | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry[1] <= self._now():
            self._entries.pop(key_hash, None)
            return None
        return entry[0]

    def put(self, key_hash: str, caller: Caller, valid_for: float | None = None) -> None:
        """Remembers `caller` for `ttl` seconds, or `valid_for` if that is shorter (a key whose overlap ends)."""
        ttl = self.ttl if valid_for is None else min(self.ttl, valid_for)
        if ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[key_hash] = (caller, self._now() + ttl)


async def authenticate(
    sessionmaker: async_sessionmaker[AsyncSession],
    api_key: str | None,
    cache: CallerCache | None = None,
    clock: Clock | None = None,
) -> Caller:
    """The caller of `api_key`: its client's current key, or the previous one before its overlap ends. The
    database is asked only if the cache cannot say, on a read-only session whose connection goes back to
    the pool at once."""
    if not api_key:
        raise Unauthorized("Send the portal's API key as 'Authorization: Bearer <key>' or 'X-API-Key'.")
    key_hash = hash_key(api_key)
    if cache is not None and (caller := cache.get(key_hash)) is not None:
        return caller
    now = (clock or default_clock).now()
    async with sessionmaker() as session:
        row = (await session.execute(_CALLER_BY_KEY_HASH, {"key_hash": key_hash, "now": now})).first()
    if row is None:
        raise Unauthorized("The API key is not valid.")
    caller = Caller(id=row.id, name=row.name)
    if cache is not None:
        previous = row.api_key_hash != key_hash
        cache.put(key_hash, caller, (row.previous_key_expires_at - now).total_seconds() if previous else None)
    return caller
