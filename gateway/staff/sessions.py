"""Server-side staff sessions: an opaque random id in an HttpOnly cookie, only its SHA-256 in the database.

A session ends `staff_session_idle_seconds` after its last request and at the latest
`staff_session_absolute_seconds` after login; logging out deletes it, and so do disabling the account or
giving it a new password (gateway/staff/accounts.py). Its row is shared by every gateway process, and it
carries the synchronizer token the forms send back (gateway/staff/csrf.py).

The cookie is SameSite=Lax, HttpOnly, Path=/, and Secure with the `__Host-` prefix unless in development
over plain http (Settings.staff_cookies_secure): a `__Host-` cookie cannot be set by a sibling subdomain.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from litestar.datastructures import Cookie
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.db.models import StaffAccount, StaffSession
from gateway.settings import Settings

# The last-seen time is written at most this often: not a write per page view.
TOUCH_EVERY = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 100


def cookie_name(settings: Settings) -> str:
    return "__Host-dvcgw_staff" if settings.staff_cookies_secure else "dvcgw_staff"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StaffUser:
    """Who a staff request is from: safe to keep on the request while the ORM session changes."""

    id: str
    username: str
    role: str
    office_code: str | None
    csrf_token: str
    session_hash: str

    @property
    def actor(self) -> str:
        """How the audit trail names them."""
        return f"staff:{self.username}"


async def open_session(session: AsyncSession, account: StaffAccount, now: datetime, settings: Settings) -> str:
    """A new session for `account`; returns the cookie's value (shown to the browser only)."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id_hash=_hash(token),
            staff_id=account.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=settings.staff_session_absolute_seconds),
        )
    )
    return token


async def close_session(session: AsyncSession, token: str | None) -> None:
    if token and len(token) <= MAX_TOKEN_LENGTH:
        await session.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(token)))


async def resolve_session(
    session: AsyncSession, token: str | None, now: datetime, settings: Settings
) -> StaffUser | None:
    """The user of a cookie's session, or None if it is unknown, expired or its account disabled.
    An expired session is deleted; a live one has its last-seen time moved on (the caller commits)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    id_hash = _hash(token)
    row = (
        await session.execute(
            select(StaffSession, StaffAccount)
            .join(StaffAccount, StaffAccount.id == StaffSession.staff_id)
            .where(StaffSession.id_hash == id_hash)
        )
    ).first()
    if row is None:
        return None
    stored, account = row
    idle_end = stored.last_seen_at + timedelta(seconds=settings.staff_session_idle_seconds)
    if not account.active or stored.expires_at <= now or idle_end <= now:
        await session.execute(delete(StaffSession).where(StaffSession.id_hash == id_hash))
        return None
    if now - stored.last_seen_at >= TOUCH_EVERY:
        await session.execute(
            update(StaffSession)
            .where(StaffSession.id_hash == id_hash)
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
    return StaffUser(
        id=account.id,
        username=account.username,
        role=account.role,
        office_code=account.office_code,
        csrf_token=stored.csrf_token,
        session_hash=id_hash,
    )


async def purge_expired(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Deletes the sessions past either end (an hourly job)."""
    idle_before = now - timedelta(seconds=settings.staff_session_idle_seconds)
    result = await session.execute(
        delete(StaffSession).where((StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= idle_before))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def session_cookie(settings: Settings, token: str) -> Cookie:
    # No max-age: the browser forgets it when it closes; the server ends it whatever the browser keeps.
    return Cookie(
        key=cookie_name(settings),
        value=token,
        path="/",
        httponly=True,
        secure=settings.staff_cookies_secure,
        samesite="lax",
    )


def expired_cookie(settings: Settings, key: str) -> Cookie:
    return Cookie(
        key=key, value="", path="/", max_age=0, httponly=True, secure=settings.staff_cookies_secure, samesite="lax"
    )


async def purge_expired_sessions(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """The hourly job (gateway/workers.py): sessions past either end are deleted."""
    async with sessionmaker() as session:
        purged = await purge_expired(session, clock.now(), settings)
        await session.commit()
    return purged
