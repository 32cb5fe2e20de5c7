"""Portal clients authenticate with an API key; only its SHA-256 is stored."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.models import Client
from gateway.errors import Unauthorized
from gateway.ids import new_id

KEY_PREFIX = "dvcgw_"
_CALLER_BY_KEY_HASH = select(Client.id, Client.name).where(Client.api_key_hash == bindparam("key_hash"), Client.active)


def hash_key(api_key: str) -> str:
    # A random 256-bit key needs no slow hash: there is nothing to brute-force.
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_client(name: str, now: datetime, webhook_url: str | None = None) -> tuple[Client, str]:
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
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

    def put(self, key_hash: str, caller: Caller) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[key_hash] = (caller, self._now() + self.ttl)


async def authenticate(
    sessionmaker: async_sessionmaker[AsyncSession], api_key: str | None, cache: CallerCache | None = None
) -> Caller:
    """The caller of `api_key`. The database is asked only if the cache cannot say, on a session of its
    own (a read-only one), whose connection goes back to the pool at once."""
    if not api_key:
        raise Unauthorized("Send the portal's API key as 'Authorization: Bearer <key>' or 'X-API-Key'.")
    key_hash = hash_key(api_key)
    if cache is not None and (caller := cache.get(key_hash)) is not None:
        return caller
    async with sessionmaker() as session:
        row = (await session.execute(_CALLER_BY_KEY_HASH, {"key_hash": key_hash})).first()
    if row is None:
        raise Unauthorized("The API key is not valid.")
    caller = Caller(id=row.id, name=row.name)
    if cache is not None:
        cache.put(key_hash, caller)
    return caller
