"""Rows that are only ever inserted (the audit trail, the webhook outbox, the provider inbox).

`append` queues such a row on a session; the session's commit writes the queue with SQLAlchemy Core,
after the ORM has flushed (the rows refer to payments it may be inserting), in the same transaction.
A rollback or close forgets the queue, as it forgets objects added to the session.

Why not `session.add`: nothing reads these rows back in the session that writes them, and the unit of
work (identity map, attribute history, a mapper save per table) cost about a third of an IPN's database
time for them; one Core statement per table does the same insert (bench/README.md).
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import Any, Protocol

from sqlalchemy import Insert, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction

_QUEUE = "dvcgw.appends"
# Built once per table: building a statement costs more than running it.
_INSERTS: dict[type[DeclarativeBase], Insert] = {}


def append(session: AsyncSession | Session, model: type[DeclarativeBase], row: dict[str, Any]) -> None:
    """Insert `row` into `model`'s table when `session` commits."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if not sync.in_transaction():
        sync.begin()  # as session.add() does: a rollback or close now has a transaction to end
    sync.info.setdefault(_QUEUE, []).append((model, row))


class Writes(Protocol):
    """Where a service's insert-only rows go: a session (SessionWrites) or a direct.Transaction."""

    def append(self, model: type[DeclarativeBase], row: dict[str, Any]) -> None: ...


class SessionWrites:
    """Rows appended to `session`, written by its commit."""

    __slots__ = ("session",)

    def __init__(self, session: AsyncSession | Session) -> None:
        self.session = session

    def append(self, model: type[DeclarativeBase], row: dict[str, Any]) -> None:
        append(self.session, model, row)


@event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    queue = session.info.pop(_QUEUE, None)
    if not queue:
        return
    session.flush()
    connection = session.connection()
    # Consecutive rows of one table go in one statement; the order across tables is kept.
    for model, rows in groupby(queue, key=itemgetter(0)):
        statement = _INSERTS.get(model)
        if statement is None:
            statement = _INSERTS[model] = insert(model)
        connection.execute(statement, [row for _, row in rows])


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back or closed; a commit has emptied the queue already
        session.info.pop(_QUEUE, None)
