"""How a writer learns that another writer of the same rows committed first.

Rows that may be written concurrently carry a version (`version_id_col`): the loser's UPDATE matches no row
and SQLAlchemy raises StaleDataError. But a state change can also add rows that are unique per cause, such as
a payment's journal entry or its receipt, and the unit of work may insert those before it updates the
versioned row. The loser then meets the winner's committed row on the unique constraint first and gets an
IntegrityError instead. Both mean the same thing: read again; the other writer's outcome stands.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

RACE_ERRORS = (StaleDataError, IntegrityError)

_UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


def lost_race(exc: BaseException) -> bool:
    """True when `exc` is what a concurrent writer's earlier commit causes, not a mistake of this writer's
    own (a NOT NULL or foreign key failure is an IntegrityError too, and must not be retried away)."""
    if isinstance(exc, StaleDataError):
        return True
    if not isinstance(exc, IntegrityError):
        return False
    cause = exc.orig
    if getattr(cause, "sqlstate", None) == _UNIQUE_VIOLATION or getattr(cause, "pgcode", None) == _UNIQUE_VIOLATION:
        return True
    return "UNIQUE constraint failed" in str(cause)  # SQLite names no code
