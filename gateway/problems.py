"""The one place that maps errors to RFC 9457 problem responses."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError

from contracts.errors import ProviderRejected, ProviderUnavailable
from gateway.db.races import lost_race
from gateway.errors import Conflict, DomainError

TYPE_BASE = "https://dvc-gateway.gov.vn/problems/"
# How long a portal is told to wait when the database is out of reach or busy: the pool reconnects on the
# next request after it is back (gateway/db/engine.py pre-pings), so a short wait is enough.
DATABASE_RETRY_AFTER_SECONDS = 5
# SQLite's OperationalError also says a statement is wrong; these say the database is there but wrong.
_NOT_AN_OUTAGE = ("no such ", "syntax error", "has no column")
log = structlog.get_logger()


def _problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status, type_=TYPE_BASE + slug, title=title, detail=detail, extra=extra or None
    )


def from_domain(exc: DomainError) -> ProblemDetailsException:
    extra = dict(exc.extra)
    retry_after = extra.pop("retry_after", None)
    problem = _problem(exc.status, exc.type_slug, exc.title, exc.detail, **extra)
    if retry_after is not None:
        problem.headers = {"Retry-After": str(retry_after)}
    return problem


def from_http(exc: HTTPException) -> ProblemDetailsException:
    if isinstance(exc, ValidationException):
        errors = exc.extra if isinstance(exc.extra, list) else []
        return _problem(
            400,
            "validation",
            "The request is not valid",
            "One or more fields are missing or invalid; see errors.",
            errors=[_clean(e) for e in errors],
        )
    title = exc.detail or "HTTP error"
    problem = _problem(exc.status_code, f"http-{exc.status_code}", title, exc.detail)
    problem.headers = exc.headers
    return problem


def _clean(error: Any) -> Any:
    # Litestar echoes the offending input back; that input can be a phone number or a CCCD.
    if isinstance(error, dict):
        return {k: v for k, v in error.items() if k in {"key", "message", "source"}}
    return error


def from_provider_unavailable(exc: ProviderUnavailable) -> ProblemDetailsException:
    return _problem(504, "provider-unavailable", "The payment provider did not answer", exc.message)


def from_provider_rejected(exc: ProviderRejected) -> ProblemDetailsException:
    return _problem(502, "provider-rejected", "The payment provider refused the request", exc.message)


def _internal() -> ProblemDetailsException:
    return _problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "The gateway could not complete the request; nothing was changed by this failure.",
    )


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return _internal().to_response(request)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached, dropped the connection or is locked by another
    writer (worth trying again shortly), rather than that a statement or the data is wrong."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
            return True
        if isinstance(exc, sa_exc.OperationalError):
            return not any(marker in str(exc.orig).lower() for marker in _NOT_AN_OUTAGE)
        return False
    # Pool exhausted, or a new connection refused, reset or timed out: asyncpg raises the OS's own error
    # when it connects, which SQLAlchemy passes through unwrapped.
    return isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError, ConnectionError, TimeoutError))


def from_lost_race(exc: Exception) -> ProblemDetailsException:
    return from_domain(Conflict("The resource changed while this request ran; send it again."))


def from_database_error(exc: Exception) -> ProblemDetailsException:
    if lost_race(exc):  # another request changed the same rows first: this one wrote nothing
        constraint = getattr(getattr(exc, "orig", None), "constraint_name", None)
        log.info("lost_race", error=type(exc).__name__, constraint=constraint)
        return from_lost_race(exc)
    if not database_unavailable(exc):
        log.error("unhandled_error", error=type(exc).__name__, exc_info=exc)
        return _internal()
    log.warning("database_unavailable", error=type(exc).__name__)
    problem = _problem(
        503,
        "database-unavailable",
        "The database is unavailable",
        "The gateway cannot reach its database just now; nothing was changed. Send the request again later.",
    )
    problem.headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    return problem


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                DomainError: from_domain,
                HTTPException: from_http,
                StaleDataError: from_lost_race,
                ProviderUnavailable: from_provider_unavailable,
                ProviderRejected: from_provider_rejected,
                # The database out of reach or locked: 503 with Retry-After, not a 500.
                sa_exc.DBAPIError: from_database_error,
                sa_exc.TimeoutError: from_database_error,
                sa_exc.DisconnectionError: from_database_error,
                ConnectionError: from_database_error,
                TimeoutError: from_database_error,
            }
        )
    )
