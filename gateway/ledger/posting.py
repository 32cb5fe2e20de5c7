"""Writing journal entries, inside the caller's transaction: the posting commits with the state change that
caused it, or not at all.

The ledger is append-only: the ORM refuses to change or delete an entry or a posting (`_append_only`), and
on PostgreSQL a trigger refuses it too (migration 0014). A mistake is fixed by a correcting entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.db.models import JournalEntry, Posting
from gateway.ids import new_id
from gateway.ledger.entries import NewEntry


class LedgerIsAppendOnly(RuntimeError):
    """Code tried to change or delete a journal entry or a posting."""


def post(session: AsyncSession, entry: NewEntry, recorded_at: datetime | None = None) -> JournalEntry:
    """Add `entry` to the caller's transaction, checked first (an unbalanced one raises UnbalancedEntry
    and nothing is added). A second entry of the same (cause, cause id) fails the commit on the unique
    constraint: use `post_once` where the same cause may legitimately come twice."""
    entry.check()
    row = JournalEntry(
        id=new_id("jrn"),
        cause=entry.cause.value,
        cause_id=entry.cause_id,
        description=entry.description,
        corrects_id=entry.corrects,
        occurred_at=entry.occurred_at,
        recorded_at=recorded_at or entry.occurred_at,
    )
    session.add(row)
    session.add_all(
        Posting(entry_id=row.id, account_kind=account.kind.value, account_key=account.key, amount=amount)
        for account, amount in entry.postings
    )
    return row


async def post_once(session: AsyncSession, entry: NewEntry, recorded_at: datetime | None = None) -> bool:
    """`post`, unless an entry of the same cause and cause id exists: False then, and nothing added.

    Two transactions racing to post the same cause still cannot both commit (the unique constraint)."""
    exists = await session.scalar(
        select(JournalEntry.id).where(JournalEntry.cause == entry.cause.value, JournalEntry.cause_id == entry.cause_id)
    )
    if exists is not None:
        return False
    post(session, entry, recorded_at)
    return True


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, *_: Any) -> None:
    for row in (*session.dirty, *session.deleted):
        if isinstance(row, JournalEntry | Posting) and (row in session.deleted or session.is_modified(row)):
            raise LedgerIsAppendOnly(f"{type(row).__name__} rows are never changed or deleted; post a correction")
