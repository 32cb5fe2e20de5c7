"""Staff passwords: Argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile), hashed off the event loop.

A hash takes tens of milliseconds and 64 MiB: it runs in a worker thread (argon2-cffi releases the GIL),
at most HASHES_AT_ONCE per process, so a flood of logins queues instead of exhausting memory. An unknown
username is checked against a dummy hash, so it takes as long as a known one: timing tells no one which
usernames exist.
"""

from __future__ import annotations

import secrets

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHES_AT_ONCE = 2
MIN_LENGTH = 10
MAX_LENGTH = 128  # bounds the work an attacker can ask for; passphrases fit

_hasher = PasswordHasher()
_limiter = anyio.CapacityLimiter(HASHES_AT_ONCE)
_dummy_hash: str | None = None


class WeakPassword(ValueError):
    """A password the policy refuses; the message says why, in words a person acts on."""


def check_policy(password: str, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"A password has at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"A password has at most {MAX_LENGTH} characters.")
    if password.strip().lower() == username.lower():
        raise WeakPassword("A password cannot be the username.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (no such user) the same work is done and False answered."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]  # still hashed, so a long guess costs what a short one does
        password_hash = None
    target = password_hash if password_hash else await anyio.to_thread.run_sync(_dummy, limiter=_limiter)
    matched = await anyio.to_thread.run_sync(_verify, target, password, limiter=_limiter)
    return matched and password_hash is not None


async def hash_password_async(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_limiter)


def needs_rehash(password_hash: str) -> bool:
    """True once the hash's parameters are older than the hasher's: it is replaced at the next login."""
    return _hasher.check_needs_rehash(password_hash)
