"""How an exception is written to a log: a PostgreSQL error by its kind and the objects it names, never by
the values it quotes.

PostgreSQL's errors quote what they refused. Their DETAIL does ("Failing row contains (...)": every column
of a row, a payer's name, phone and address among them; "Key (...)=(...)"), and so do the messages of data
exceptions ('invalid input syntax for type integer: "..."'), integrity violations and a function's RAISE;
asyncpg's own error for an argument it could not encode quotes the argument, and so does the codec error
it is raised from. Wrappers repeat the text: SQLAlchemy's errors, an exception raised while handling one,
asyncio's "Task exception was never retrieved" with the task's repr. Matching the wording would depend on
the server's version and language, and a pattern run over every log line is a cost an attacker can choose
(a request path is logged): so the error objects themselves say what is quoted, and every text of them is
replaced wherever it appears.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable, Iterator

import asyncpg

# Messages that name only the database's own objects and states: connection, transaction state,
# authorization, deadlock and serialization, resources, operator intervention, system errors (by class);
# and, of the syntax and access rules (class 42, whose syntax errors quote the text they stopped at), an
# unknown table, column, function, schema or database, a type mismatch, a duplicate table, a refused
# privilege; a lock not available.
_KEPT_CLASSES = frozenset({"08", "25", "28", "40", "53", "57", "58"})
_KEPT_CODES = frozenset({"42P01", "42703", "42883", "42804", "42P07", "42501", "3F000", "3D000", "55P03", "55006"})
_ARGUMENT = re.compile(r"invalid input for query argument \$\d+")  # asyncpg's, then the value it refused
_LEFT_OUT = "(left out)"
# Where TracebackException (3.11–3.13) keeps the message format() writes.
_MESSAGE = "_str"
# Exceptions looked at in one graph (causes, contexts, groups): a bound for pathological chains.
_MOST = 200


def database_error_text(exc: asyncpg.PostgresError) -> str:
    """What a log may say of a PostgreSQL error: its message where that cannot quote a value, its SQLSTATE
    and the objects it names."""
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    if sqlstate[:2] in _KEPT_CLASSES or sqlstate in _KEPT_CODES:
        head = _message(exc)
    elif argument := _ARGUMENT.match(_message(exc)):
        head = argument.group(0)
    else:
        head = "(message left out: it may quote a value)"
    names = (
        ("table", exc.table_name),
        ("column", exc.column_name),
        ("constraint", exc.constraint_name),
        ("type", exc.data_type_name),
    )
    where = "".join(f", {kind} {name}" for kind, name in names if name)
    return f"{head} [SQLSTATE {sqlstate}{where}]"


def _message(exc: asyncpg.PostgresError) -> str:
    # asyncpg's own errors (an argument it could not encode) carry their text in args, not in `message`.
    return str(exc.message or (exc.args[0] if exc.args else ""))


class TooManyExceptions(Exception):
    """More exceptions in one graph than are looked at: their texts cannot all be known."""


def _graph(roots: Iterable[BaseException]) -> Iterator[BaseException]:
    """Every exception reachable from `roots`: causes, contexts, SQLAlchemy's `orig`, grouped ones."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        exc = stack.pop()
        if id(exc) in seen:
            continue
        if len(seen) >= _MOST:
            raise TooManyExceptions(f"more than {_MOST} exceptions")
        seen.add(id(exc))
        yield exc
        orig = getattr(exc, "orig", None)
        linked = [exc.__cause__, exc.__context__, orig if isinstance(orig, BaseException) else None]
        linked.extend(getattr(exc, "exceptions", None) or ())
        stack.extend(e for e in linked if isinstance(e, BaseException))


def replacements(roots: Iterable[BaseException]) -> list[tuple[str, str]]:
    """(text, what a log says instead) for every text of the PostgreSQL errors reachable from `roots`, and
    of the exceptions they were raised from; longest first, so that a whole message goes before its
    parts."""
    pairs: dict[str, str] = {}
    for exc in _graph(roots):
        if not isinstance(exc, asyncpg.PostgresError):
            continue
        safe = database_error_text(exc)
        pairs[str(exc)] = safe
        for part in (_message(exc), exc.detail, exc.hint):
            if part and part not in safe:
                pairs.setdefault(part, _LEFT_OUT)
        if exc.__cause__ is not None:  # the codec's error: it quotes the argument
            pairs.setdefault(str(exc.__cause__), _LEFT_OUT)
    for text in list(pairs):  # as a repr() writes them (asyncio's task, a "%r" argument)
        pairs.setdefault(repr(text)[1:-1], pairs[text])
    return sorted(((t, r) for t, r in pairs.items() if t), key=lambda pair: -len(pair[0]))


def scrub(text: str, pairs: list[tuple[str, str]]) -> str:
    for quoted, instead in pairs:
        if quoted in text:
            text = text.replace(quoted, instead)
    return text


def exception_text(exc: BaseException) -> str:
    """The traceback of `exc`, as structlog's format_exc_info writes it, with every text of the PostgreSQL
    errors in it replaced (a PostgreSQL error's own message by database_error_text)."""
    try:
        te = traceback.TracebackException.from_exception(exc)
        if not hasattr(te, _MESSAGE):  # a Python whose TracebackException keeps its message elsewhere
            raise AttributeError(_MESSAGE)
        pairs = replacements([exc])
        for node, of in _nodes(te, exc):
            if isinstance(of, asyncpg.PostgresError):
                setattr(node, _MESSAGE, database_error_text(of))
            elif pairs:
                setattr(node, _MESSAGE, scrub(getattr(node, _MESSAGE), pairs))
            notes = getattr(node, "__notes__", None)
            if pairs and notes:
                node.__notes__ = [scrub(str(note), pairs) for note in notes]
        return "".join(te.format())
    except Exception:  # a log line must not fail, nor fall back to the plain traceback
        kinds = " <- ".join(type(e).__name__ for e in _chain(exc))
        return f"{kinds} (traceback left out: it could not be written without the values it may quote)\n"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it was raised from or while handling, the first few: nothing here may fail."""
    current: BaseException | None = exc
    for _ in range(20):
        if current is None:
            return
        yield current
        current = current.__cause__ or current.__context__


def _nodes(
    te: traceback.TracebackException, exc: BaseException
) -> Iterator[tuple[traceback.TracebackException, BaseException]]:
    """Each exception of `te` with the exception it was made from (TracebackException keeps none)."""
    seen: set[int] = set()  # by record: the same exception twice in a group is written twice
    stack: list[tuple[traceback.TracebackException | None, BaseException | None]] = [(te, exc)]
    while stack:
        node, of = stack.pop()
        if node is None or of is None or id(node) in seen:
            continue
        if len(seen) >= _MOST:  # the rest would be written as they are
            raise TooManyExceptions(f"more than {_MOST} exceptions")
        seen.add(id(node))
        yield node, of
        stack.append((node.__cause__, of.__cause__))
        stack.append((node.__context__, of.__context__))
        grouped = getattr(of, "exceptions", None) or ()
        stack.extend(zip(node.exceptions or (), grouped, strict=False))
