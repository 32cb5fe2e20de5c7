from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@get("/health", tags=["health"], operation_id="health")
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/ready", tags=["health"], operation_id="ready")
async def ready(db_session: NamedDependency[AsyncSession]) -> Response[dict[str, str]]:
    """The process can serve: its database answers."""
    try:
        await db_session.execute(text("SELECT 1"))
    except Exception as exc:
        return Response({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return Response({"status": "ok", "database": "ok"})
