"""structlog set-up: JSON lines, a request id per request, personal data masked before anything is written.

Decree 13/2023 and Law 91/2025 treat phone numbers, citizen ids (CCCD/CMND) and addresses as personal
data, so masking happens in the processor chain rather than at each call site: a forgotten call site
cannot leak. Every value under a sensitive key is masked whatever it holds; every string, by pattern
(phone numbers, citizen ids, e-mail addresses); and the values a PostgreSQL error quotes, found from the
error itself, wherever its text appears (gateway/exception_text.py).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog

from gateway.exception_text import exception_text, replacements, scrub

SENSITIVE_KEYS = frozenset(
    {
        "phone",
        "sdt",
        "payer_phone",
        "email",
        "payer_email",
        "address",
        "dia_chi",
        "cccd",
        "cmnd",
        "so_dinh_danh",
        "full_name",
        "payer_name",
        "name_on_card",
        "card_number",
        "password",
        "api_key",
        "authorization",
        "secret",
        "hash_secret",
        "vnp_securehash",
    }
)

# Bounded as RFC 5321 bounds an address (64 before the "@", 253 after), and starting only where a run of
# its characters starts: unbounded, a 16 KB request path of letters around an "@" took the access line
# hundreds of milliseconds of backtracking.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
# CCCD is 12 digits, CMND 9; VN mobile numbers are 0 or +84 followed by 9 digits.
# Bounded by non-alphanumerics so that digits inside hex ids and hashes are left alone.
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?84|0)\d{9}(?![0-9A-Za-z])")
_CITIZEN_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{12}|\d{9})(?![0-9A-Za-z])")


# Every rule above needs an "@" or a run of nine digits: testing for those spares most values the three
# rules. Two tests, not one alternation: the regex "@|\d{9}" retries the "@" at every position.
# For ASCII text (nearly all of it) the ASCII-only pattern is the same test at half the cost.
_NINE_DIGITS = re.compile(r"\d{9}")
_NINE_ASCII_DIGITS = re.compile(r"[0-9]{9}")


def _maybe_personal(text: str) -> bool:
    if "@" in text:
        return True
    return (_NINE_ASCII_DIGITS if text.isascii() else _NINE_DIGITS).search(text) is not None


def mask_text(text: str) -> str:
    if not _maybe_personal(text):
        return text
    if "@" in text:
        text = _EMAIL.sub(lambda m: m.group(0)[0] + "***@***", text)
    text = _PHONE.sub(lambda m: "*" * (len(m.group(0)) - 3) + m.group(0)[-3:], text)
    return _CITIZEN_ID.sub(lambda m: "*" * (len(m.group(0)) - 3) + m.group(0)[-3:], text)


def _sensitive(key: str) -> bool:
    return key in SENSITIVE_KEYS or (not key.islower() and key.lower() in SENSITIVE_KEYS)


def mask_value(key: str, value: Any) -> Any:
    if _sensitive(key):
        return value if value is None or value == "" else "***"
    # Exact type tests first: nearly every value logged is one of these, and isinstance chains cost more.
    cls = type(value)
    if cls is str:
        return mask_text(value)
    if cls is int or cls is float or cls is bool or value is None:
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    return value


def mask_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: mask_value(k, v) for k, v in event_dict.items()}


# True while a request runs (gateway/middleware.py): what it did then goes on its access line.
_ACCESS_LINE: ContextVar[bool] = ContextVar("dvcgw_access_line", default=False)


def access_line_open() -> Token[bool]:
    return _ACCESS_LINE.set(True)


def access_line_closed(token: Token[bool]) -> None:
    _ACCESS_LINE.reset(token)


def note(logger: Any, event: str, **facts: Any) -> None:
    """What was done, as the request's access line carries it (one line per request, gateway/middleware.py),
    or, outside a request (the workers), as a line of its own named `event`. Inside a request a line of its
    own would be a second line to mask, render and write, a visible share of a request as short as an IPN."""
    if _ACCESS_LINE.get():
        structlog.contextvars.bind_contextvars(**facts)
    else:
        logger.info(event, **facts)


@contextmanager
def notes_undone_on_error() -> Iterator[None]:
    """What the block notes stays on the access line only if the block succeeds: a transaction rolled back
    and then answered another way (a replay, a retry after a lost race) did not do what it noted."""
    before = structlog.contextvars.get_contextvars()
    try:
        yield
    except BaseException:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**before)
        raise


def _timestamp(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # structlog's TimeStamper(fmt="iso", utc=True) writes the same text at three times the cost.
    event_dict["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return event_dict


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1]
    return sys.exc_info()[1] if exc_info else None


def _database_values_out(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Every text of the PostgreSQL errors this line is about (its exc_info, an exception among its values,
    a library record's exception arguments) replaced in its values, nested ones too: asyncio's "Task
    exception was never retrieved" writes the task's repr, error and all, into its message, and
    `error=exc` would be written as str(exc) (gateway/exception_text.py)."""
    exceptions = [value for value in event_dict.values() if isinstance(value, BaseException)]
    if (exc := _exception_of(event_dict.get("exc_info"))) is not None:
        exceptions.append(exc)
    args = event_dict.get("positional_args")  # a library record's (ProcessorFormatter's pass_foreign_args)
    values = args.values() if isinstance(args, Mapping) else args if isinstance(args, tuple) else ()
    exceptions.extend(value for value in values if isinstance(value, BaseException))
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord) and record.exc_info and record.exc_info[1] is not None:
        exceptions.append(record.exc_info[1])
    if not exceptions:
        return event_dict
    try:
        if pairs := replacements(exceptions):
            for key, value in event_dict.items():
                if key not in _READ_LATER:
                    event_dict[key] = _scrubbed(value, pairs)
    except Exception:  # a log line must not fail; without its values it says less, never more
        # The event of the gateway's own lines is a name in its code; a library record's is its message.
        safe = _ALWAYS_SAFE | {"event"} if event_dict.get("_from_structlog", True) else _ALWAYS_SAFE
        for key in event_dict:
            if key not in _READ_LATER and key not in safe:
                event_dict[key] = "(left out: it could not be written without the values it may quote)"
    return event_dict


# Values structlog's own processors read later, as they are (the traceback is rewritten on its own).
_READ_LATER = frozenset({"exc_info", "_record", "_from_structlog", "positional_args"})
_ALWAYS_SAFE = frozenset({"level", "logger", "timestamp", "request_id"})


def _scrubbed(value: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        return scrub(value, pairs)
    if isinstance(value, BaseException):  # the JSON line would write its text: the text, rewritten
        return scrub(str(value), pairs)
    if isinstance(value, Mapping):
        return {k: _scrubbed(v, pairs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v, pairs) for v in value]
    return value


def _without_positional_args(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Already in the record's message; a line of their own would repeat them unformatted.
    event_dict.pop("positional_args", None)
    return event_dict


def _format_exc_info(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # structlog's format_exc_info, with exception_text for the traceback.
    exc = _exception_of(event_dict.pop("exc_info", None))
    if exc is not None:
        event_dict["exception"] = exception_text(exc)
    return event_dict


def _json_line(event: Any, **_: Any) -> str:
    # msgspec rather than json.dumps: one line per request is written, so its cost is every request's.
    return msgspec.json.encode(event, enc_hook=str).decode()


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    renderer: Any = structlog.processors.JSONRenderer(_json_line) if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _timestamp,
            _database_values_out,
            _format_exc_info,
            mask_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    _route_library_records(renderer, level)
    # These libraries log full URLs, and VNPay puts its signed parameters in the query string.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


class _MaskedRecords(logging.StreamHandler):
    """The handler _route_library_records installs (its own class, so a second set-up replaces it). It
    writes to sys.stdout as it is when the record comes, as print() does."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass  # StreamHandler's constructor sets it

    def handleError(self, record: logging.LogRecord) -> None:
        # The standard one prints the record's message and arguments as they are, unmasked.
        sys.stderr.write(
            f"--- a log record of {record.name} ({record.pathname}:{record.lineno}) could not be written\n"
        )


def _route_library_records(renderer: Any, level: str) -> None:
    """Libraries log through the standard library (uvicorn's "Exception in ASGI application", asyncio's
    "Task exception was never retrieved", SQLAlchemy's pool), and their tracebacks carry database errors
    and request data as much as the gateway's own: their records go through the same masking, as lines
    like the gateway's."""
    handler = _MaskedRecords()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            pass_foreign_args=True,
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                _timestamp,
            ],
            processors=[
                _database_values_out,  # before the record is taken out of the event
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _without_positional_args,
                _format_exc_info,
                mask_personal_data,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, _MaskedRecords)] + [handler]
    root.setLevel(level.upper())
    # uvicorn's configuration (its own, or a --log-config) gives its loggers handlers of their own that
    # write unmasked and stop there.
    for name in ("uvicorn", "uvicorn.error"):
        library = logging.getLogger(name)
        library.handlers = []
        library.propagate = True
