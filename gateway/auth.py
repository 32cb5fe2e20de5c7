"""Portal clients authenticate with an API key; only its SHA-256 is stored."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime
from typing import Any

from litestar import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import Client
from gateway.errors import Unauthorized
from gateway.ids import new_id

KEY_PREFIX = "dvcgw_"


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
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


async def authenticate(session: AsyncSession, api_key: str | None) -> Client:
    if not api_key:
        raise Unauthorized("Send the portal's API key as 'Authorization: Bearer <key>' or 'X-API-Key'.")
    client = await session.scalar(select(Client).where(Client.api_key_hash == hash_key(api_key)))
    if client is None or not client.active:
        raise Unauthorized("The API key is not valid.")
    return client
