from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.openapi import ok, problems


@get("/health", tags=["health"], operation_id="health", responses=problems(portal=False))
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get(
    "/ready",
    tags=["health"],
    operation_id="ready",
    responses={**problems(portal=False), **ok(dict[str, str], "The database does not answer", 503)},
)
async def ready(db_session: NamedDependency[AsyncSession]) -> Response[dict[str, str]]:
    """The process can serve: its database answers."""
    try:
        await db_session.execute(text("SELECT 1"))
    except Exception as exc:
        return Response({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return Response({"status": "ok", "database": "ok"})
