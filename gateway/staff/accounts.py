"""Staff accounts: made, disabled and given new passwords from the command line; checked at login.

Lockout: `staff_lockout_failures` wrong passwords in a row lock the account for `staff_lockout_seconds`;
while it is locked even the right password is refused (and still hashed, so the answer takes as long).
The count is raised by one UPDATE, so two processes counting the same account lose no failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import StaffAccount, StaffSession
from gateway.errors import Conflict, DomainError, NotFound
from gateway.ids import new_id
from gateway.settings import Settings
from gateway.staff.passwords import check_policy, hash_password_async, needs_rehash, verify_password

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
# A post office's code as the carrier names it (VNPost: the office's six-digit postal code, e.g. 100000).
OFFICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")


class Role(StrEnum):
    POSTAL = "postal"  # a post office's staff: the shipments of their office
    FINANCE = "finance"  # reconciliation (issue 24); no office


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME.fullmatch(name):
        raise DomainError("A username is 3 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit.")
    return name


def check_office(role: Role, office_code: str | None) -> str | None:
    if role is Role.POSTAL:
        if not office_code or not OFFICE_CODE.fullmatch(office_code.strip()):
            raise DomainError("Postal staff need their post office's code (1 to 20 letters, digits, '.', '_', '-').")
        return office_code.strip()
    if office_code:
        raise DomainError(f"Role {role.value} has no post office.")
    return None


async def create_account(
    session: AsyncSession, username: str, password: str, role: Role, office_code: str | None, now: datetime
) -> StaffAccount:
    name = check_username(username)
    office = check_office(role, office_code)
    check_policy(password, name)
    if await session.scalar(select(StaffAccount.id).where(StaffAccount.username == name)) is not None:
        raise Conflict(f"A staff account {name!r} exists already.")
    account = StaffAccount(
        id=new_id("stf"),
        username=name,
        password_hash=await hash_password_async(password),
        role=role.value,
        office_code=office,
        active=True,
        failed_logins=0,
        locked_until=None,
        created_at=now,
    )
    session.add(account)
    return account


async def _account(session: AsyncSession, username: str) -> StaffAccount:
    account = await session.scalar(
        select(StaffAccount).where(StaffAccount.username == normalize_username(username)).with_for_update()
    )
    if account is None:
        raise NotFound(f"No staff account {normalize_username(username)!r}.")
    return account


async def _end_sessions(session: AsyncSession, account: StaffAccount) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == account.id))


async def disable_account(session: AsyncSession, username: str) -> bool:
    """Disables the account and ends its sessions at once; False if it already was disabled."""
    account = await _account(session, username)
    was_active = account.active
    account.active = False
    await _end_sessions(session, account)
    return was_active


async def enable_account(session: AsyncSession, username: str) -> bool:
    """Lets a disabled account log in again; False if it was not disabled."""
    account = await _account(session, username)
    was_disabled = not account.active
    account.active = True
    account.failed_logins = 0
    account.locked_until = None
    return was_disabled


async def reset_password(session: AsyncSession, username: str, password: str) -> StaffAccount:
    """A new password: the lockout is lifted and every session of the account ends (whoever held the old
    password is logged out)."""
    account = await _account(session, username)
    check_policy(password, account.username)
    account.password_hash = await hash_password_async(password)
    account.failed_logins = 0
    account.locked_until = None
    await _end_sessions(session, account)
    return account


class LoginOutcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"  # unknown username, wrong password or disabled account: one answer for all three
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Login:
    outcome: LoginOutcome
    account: StaffAccount | None = None
    locked_until: datetime | None = None


async def check_login(session: AsyncSession, username: str, password: str, settings: Settings, now: datetime) -> Login:
    """Checks a login and records its outcome (the failure count, a lock, a rehash); the caller commits."""
    name = normalize_username(username)
    account = await session.scalar(select(StaffAccount).where(StaffAccount.username == name)) if name else None
    # The read's transaction ends before the slow hash: on SQLite it holds the database's write lock.
    await session.commit()
    matched = await verify_password(account.password_hash if account else None, password)
    if account is None or not account.active:
        return Login(LoginOutcome.INVALID)
    if account.locked_until is not None and account.locked_until > now:
        return Login(LoginOutcome.LOCKED, locked_until=account.locked_until)
    if not matched:
        return await _count_failure(session, account, settings, now)
    account.failed_logins = 0
    account.locked_until = None
    if needs_rehash(account.password_hash):
        account.password_hash = await hash_password_async(password)
    return Login(LoginOutcome.OK, account)


async def _count_failure(session: AsyncSession, account: StaffAccount, settings: Settings, now: datetime) -> Login:
    failures = await session.scalar(
        update(StaffAccount)
        .where(StaffAccount.id == account.id)
        .values(failed_logins=StaffAccount.failed_logins + 1)
        .returning(StaffAccount.failed_logins)
        .execution_options(synchronize_session=False)
    )
    if failures is not None and failures >= settings.staff_lockout_failures:
        until = now + timedelta(seconds=settings.staff_lockout_seconds)
        await session.execute(
            update(StaffAccount)
            .where(StaffAccount.id == account.id)
            .values(failed_logins=0, locked_until=until)
            .execution_options(synchronize_session=False)
        )
        return Login(LoginOutcome.LOCKED, locked_until=until)
    return Login(LoginOutcome.INVALID)
