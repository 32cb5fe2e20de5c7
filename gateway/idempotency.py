"""The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header) for POSTs that create things.

A request first claims its key in a transaction of its own (an INSERT: a key already there fails the
unique index, and only then is it read). A second request with the same key waits a few seconds for the
first to finish and replays its answer, or is told it is still running (409). The response is stored in
the same transaction as the work's last write, so a replay returns exactly what the first request
returned. A failed request releases the key: the client may try again with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.db.models import IdempotencyKey
from gateway.errors import (
    IdempotencyKeyInFlight,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    Unprocessable,
)

MAX_KEY_LENGTH = 255
# How long a request waits for another one with its key to finish before answering 409.
IN_FLIGHT_WAIT_SECONDS = 5.0
_IN_FLIGHT_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: Any


def fingerprint(operation: str, body: bytes) -> str:
    """The request a key was used for: its operation and its JSON body with keys sorted and no spaces,
    so that a retry that re-serialises the same body is the same request."""
    try:
        canonical = msgspec.json.encode(msgspec.json.decode(body or b"null"), order="sorted")
    except msgspec.DecodeError:
        canonical = body
    return hashlib.sha256(operation.encode() + b"\n" + canonical).hexdigest()


def usable_key(key: str | None) -> str:
    """The Idempotency-Key header's value; raises if it is missing or too long to store."""
    if not key:
        raise IdempotencyKeyMissing("Send an 'Idempotency-Key' header (a UUID is a good choice) with this POST.")
    if len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"Idempotency-Key may be at most {MAX_KEY_LENGTH} characters.")
    return key


def _stored(response: Any) -> str:
    """The response body as stored: JSON text (`response` may be that JSON already, as bytes)."""
    if isinstance(response, bytes):
        return response.decode()
    return json.dumps(response, separators=(",", ":"), ensure_ascii=False, default=str)


PURGE_BATCH = 1000
_COMPLETE = (
    update(IdempotencyKey)
    .where(IdempotencyKey.id == bindparam("row_id"))
    .values(response_status=bindparam("status"), response_body=bindparam("body"), locked_until=None)
)


async def purge_expired(
    sessionmaker: async_sessionmaker[Any], clock: Clock, retention_hours: int, batch: int = PURGE_BATCH
) -> int:
    """Forget keys past their retention; a later request with such a key is a new request.

    A batch per transaction: a day of keys deleted in one statement would hold the write lock (on SQLite,
    the whole database's) until it finished.
    """
    cutoff = clock.now() - timedelta(hours=retention_hours)
    expired = (
        select(IdempotencyKey.id).where(IdempotencyKey.created_at < cutoff).order_by(IdempotencyKey.id).limit(batch)
    )
    purged = 0
    while True:
        async with sessionmaker() as session:
            result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(expired)))
            await session.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        purged += count
        if count < batch:
            return purged
        await asyncio.sleep(0)  # requests waiting for the lock go first


class Idempotency:
    """A request's use of its key. The claim and the release commit on sessions of their own; the
    response is stored on the work's session (`complete`), to commit with the work."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, lock_seconds: int, retention_hours: int
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.lock = timedelta(seconds=lock_seconds)
        self.retention = timedelta(hours=retention_hours)
        self._row_id: int | None = None

    async def begin(self, client_id: str, key: str | None, operation: str, body: bytes) -> StoredResponse | None:
        """Claim the key, or return the response to replay. Raises when the key cannot be used now."""
        key = usable_key(key)
        print_ = fingerprint(operation, body)
        for _ in range(2):
            now = self.clock.now()
            async with self.sessionmaker() as session:
                row = IdempotencyKey(
                    client_id=client_id,
                    key=key,
                    fingerprint=print_,
                    operation=operation,
                    locked_until=now + self.lock,
                    created_at=now,
                )
                session.add(row)
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
                else:
                    self._row_id = row.id
                    return None
                existing = await self._load(session, client_id, key)
                if existing is None:  # claimed and released in between: try again
                    continue
                if existing.created_at < now - self.retention:
                    # Past its retention but not purged yet: the key is free again.
                    await session.delete(existing)
                    await session.commit()
                    continue
                existing = await self._finished(session, existing)
                return await self._reuse(session, existing, print_, operation)
        raise IdempotencyKeyInFlight("The same Idempotency-Key was just used; retry.")

    async def _finished(self, session: AsyncSession, existing: IdempotencyKey) -> IdempotencyKey:
        """`existing` once the request holding it has answered, or as it is after IN_FLIGHT_WAIT_SECONDS."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + IN_FLIGHT_WAIT_SECONDS
        while existing.response_status is None and existing.locked_until and loop.time() < deadline:
            if existing.locked_until <= self.clock.now():
                break  # its process died: taken over in _reuse
            row_id = existing.id
            await session.rollback()  # a new snapshot for the next look
            await asyncio.sleep(_IN_FLIGHT_POLL_SECONDS)
            reloaded = await session.get(IdempotencyKey, row_id, populate_existing=True)
            if reloaded is None:  # released: the first request failed, and this one may try
                raise IdempotencyKeyInFlight("The same Idempotency-Key was just used; retry.")
            existing = reloaded
        return existing

    async def _reuse(
        self, session: AsyncSession, existing: IdempotencyKey, print_: str, operation: str
    ) -> StoredResponse | None:
        if existing.fingerprint != print_ or existing.operation != operation:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request; use a new key for a new request."
            )
        if existing.response_status is not None:
            return StoredResponse(existing.response_status, json.loads(existing.response_body or "null"))
        now = self.clock.now()
        if existing.locked_until and existing.locked_until > now:
            raise IdempotencyKeyInFlight("The first request with this Idempotency-Key has not finished yet.")
        # The first request died without an answer (its process stopped); this one takes over.
        existing.locked_until = now + self.lock
        await session.commit()
        self._row_id = existing.id
        return None

    async def complete(self, session: AsyncSession, status_code: int, body: Any) -> None:
        """Store the response on `session`; the caller commits it with the work."""
        assert self._row_id is not None, "complete() without a successful begin()"
        await session.execute(_COMPLETE, {"status": status_code, "body": _stored(body), "row_id": self._row_id})

    async def release(self) -> None:
        """Forget the claim of a request that failed: it changed nothing the key stands for."""
        row_id, self._row_id = self._row_id, None
        if row_id is None:
            return
        async with self.sessionmaker() as session:
            await session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.id == row_id, IdempotencyKey.response_status.is_(None))
            )
            await session.commit()

    @staticmethod
    async def _load(session: AsyncSession, client_id: str, key: str) -> IdempotencyKey | None:
        return await session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
        )
