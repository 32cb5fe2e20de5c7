"""The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header) for POSTs that create things.

Work that calls a provider (a refund) first claims its key in a transaction of its own, so that a
second request with the same key sees it while the first is still running (409). The response is
stored in the same transaction as the work, so a replay returns exactly what the first request
returned. A failed request releases the key: the failure changed nothing, and the client may try
again with the same key.

Work that only writes to the database (creating a payment: its checkout URL is signed here, VNPay is
not called) inserts its key, its rows and its response in one transaction (`Idempotency.record`): no
claim is ever seen running, a second request with the same key waits for the first's commit on the
key's unique index and then replays it, and a failed request leaves no key behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.db.direct import Database, DuplicateRow, Sql, Transaction
from gateway.db.models import IdempotencyKey
from gateway.errors import (
    IdempotencyKeyInFlight,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    Unprocessable,
)

MAX_KEY_LENGTH = 255


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


def _json_dumps_fingerprint(operation: str, body: bytes) -> str:
    # The fingerprint of keys stored before 2026-11-30 (json.dumps: ASCII escapes, other float exponents).
    # Tried only when the stored fingerprint is not the current one; equal canonical texts are equal JSON,
    # so it can only ever match the same body. Needless once those keys are past their retention.
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode(errors="replace")
    return hashlib.sha256(f"{operation}\n{canonical}".encode()).hexdigest()


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
# On the direct path (gateway/db/direct.py): a new key, the common case, costs this one statement.
_CLAIM = Sql(
    'INSERT INTO idempotency_keys (client_id, "key", fingerprint, operation, locked_until, created_at)'
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
)
_COMPLETE = Sql(
    "UPDATE idempotency_keys SET response_status = $1, response_body = $2, locked_until = NULL WHERE id = $3"
)
_KNOWN = Sql('SELECT 1 FROM idempotency_keys WHERE client_id = $1 AND "key" = $2')
_COMPLETE_ON_SESSION = (
    update(IdempotencyKey)
    .where(IdempotencyKey.id == bindparam("row_id"))
    .values(response_status=bindparam("status"), response_body=bindparam("body"), locked_until=None)
)


async def purge_expired(
    sessionmaker: async_sessionmaker[Any], clock: Clock, retention_hours: int, batch: int = PURGE_BATCH
) -> int:
    """Forget keys past their retention; a later request with such a key is a new request.

    A batch per transaction: a day of keys deleted in one statement would hold the write lock (and, on
    SQLite, whose statements run on the event loop, every request of the process) until it finished.
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
        await asyncio.sleep(0)  # requests waiting for the loop or the lock go first


class Idempotency:
    """A request's use of its key: claimed on the direct path; a known key is looked into on the session,
    which `open_session` opens only then (a new key, the common case, needs none)."""

    def __init__(
        self,
        open_session: Callable[[], AsyncSession],
        db: Database,
        clock: Clock,
        lock_seconds: int,
        retention_hours: int,
    ) -> None:
        self._open_session = open_session
        self.db = db
        self.clock = clock
        self.lock = timedelta(seconds=lock_seconds)
        self.retention = timedelta(hours=retention_hours)
        self._row_id: int | None = None
        self.completed = False

    @cached_property
    def session(self) -> AsyncSession:
        return self._open_session()

    async def begin(self, client_id: str, key: str | None, operation: str, body: bytes) -> StoredResponse | None:
        """Claim the key, or return the response to replay. Raises when the key cannot be used now."""
        key = usable_key(key)
        print_ = fingerprint(operation, body)
        now = self.clock.now()
        # Insert first: a new key, the common case, costs one statement; a known one fails the unique
        # constraint and is read only then.
        existing: IdempotencyKey | None = None
        for _ in range(2):
            try:
                claimed = await self.db.fetchrow(_CLAIM, client_id, key, print_, operation, now + self.lock, now)
            except DuplicateRow:
                pass
            else:
                assert claimed is not None
                self._row_id = claimed["id"]
                return None
            existing = await self._load(client_id, key)
            if existing is None or existing.created_at >= now - self.retention:
                break
            # Past its retention but not purged yet: the key is free again.
            await self.session.delete(existing)
            await self.session.commit()
            existing = None
        if existing is None:  # claimed and released in between: the caller retries
            raise IdempotencyKeyInFlight("The same Idempotency-Key was just used; retry.")
        return await self._reuse(existing, print_, operation, body)

    async def _reuse(self, existing: IdempotencyKey, print_: str, operation: str, body: bytes) -> StoredResponse | None:
        same = existing.fingerprint == print_ or existing.fingerprint == _json_dumps_fingerprint(operation, body)
        if not same or existing.operation != operation:
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
        await self.session.commit()
        self._row_id = existing.id
        return None

    async def complete(self, status_code: int, body: Any, tx: Transaction | None = None) -> None:
        """Store the response with `tx`'s commit, or else in the session; the caller commits it with the work."""
        assert self._row_id is not None, "complete() without a successful begin()"
        response = _stored(body)
        if tx is not None:
            tx.later(_COMPLETE, status_code, response, self._row_id)
        else:
            await (await self.session.connection()).execute(
                _COMPLETE_ON_SESSION, {"status": status_code, "body": response, "row_id": self._row_id}
            )
        self.completed = True

    def record(
        self, tx: Transaction, client_id: str, key: str, operation: str, body: bytes, status_code: int, response: Any
    ) -> None:
        """The key's first use, with its response, to insert when `tx` commits: a key already known makes
        that commit fail (DuplicateRow) and write nothing; the caller then treats the request by `begin`."""
        now = self.clock.now()
        tx.append(
            IdempotencyKey,
            {
                "client_id": client_id,
                "key": key,
                "fingerprint": fingerprint(operation, body),
                "operation": operation,
                "response_status": status_code,
                "response_body": _stored(response),
                "locked_until": None,
                "created_at": now,
            },
        )

    async def known(self, client_id: str, key: str) -> bool:
        return await self.db.fetchrow(_KNOWN, client_id, key) is not None

    async def release(self) -> None:
        row_id, self._row_id = self._row_id, None
        await self.session.rollback()
        if row_id is not None:
            # Not a key whose response is stored: its work committed with it, though the request failed
            # afterwards (cancelled while its commit was answered, gateway/db/group_commit.py).
            await self.session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.id == row_id, IdempotencyKey.response_status.is_(None))
            )
            await self.session.commit()

    async def _load(self, client_id: str, key: str) -> IdempotencyKey | None:
        return await self.session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
        )
