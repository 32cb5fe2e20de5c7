"""One database session per HTTP request: opened on first use, closed by a middleware.

Handlers that only read say so with `opt=READ_ONLY` and get a session that reads outside a transaction
(gateway/db/engine.py, create_read_sessionmaker); every other handler gets an ordinary one.

Not a generator dependency: Litestar 2.25 skips the clean-up of generator dependencies when a later
dependency raises (resolve_dependencies drops its DependencyCleanupGroup), so every request refused by
provide_client left a pooled connection checked out until the garbage collector found it. The
middleware closes the session whatever happens to the request.
"""

from __future__ import annotations

from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "dvcgw.db_session"
_READ_ONLY_KEY = "read_only"
READ_ONLY = {_READ_ONLY_KEY: True}


def request_session(state: State, scope: Scope) -> AsyncSession:
    """The request's session, opened on first use (the `db_session` dependency, or called directly)."""
    store = scope["state"]
    session: AsyncSession | None = store.get(_KEY)
    if session is None:
        read_only = scope["route_handler"].opt.get(_READ_ONLY_KEY, False)
        session = store[_KEY] = (state.read_sessionmaker if read_only else state.sessionmaker)()
    return session


class DbSessionMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        try:
            await next_app(scope, receive, send)
        finally:
            session = scope.get("state", {}).pop(_KEY, None)
            if session is not None:
                await session.close()
