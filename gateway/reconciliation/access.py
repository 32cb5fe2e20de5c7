"""Who may use the finance API (/v1/reconciliation, /v1/reports), and how the audit trail names them.

- Finance staff (role `finance`) from a /staff page: the session cookie, and on a POST the session's CSRF
  token in `X-CSRF-Token` (a cookie alone would let any site that gets their browser to post act for them).
- A machine of the finance office (a script fetching the day's files): a portal API key whose client is
  listed in settings.finance_client_ids. Empty by default: no portal key may use the finance API.

Anything else is refused: no credentials 401, a key or a staff role that is not finance's 403.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State

from gateway.auth import presented_key
from gateway.deps import provide_client
from gateway.errors import Unauthorized
from gateway.reconciliation.errors import NotFinance
from gateway.staff.csrf import HEADER, tokens_match
from gateway.staff.guards import session_user
from gateway.staff.sessions import cookie_name

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


async def finance_actor(request: Request[Any, Any, Any], state: State) -> str:
    if not presented_key(request) and cookie_name(state.settings) in request.cookies:
        user = await session_user(request)
        if user is None:
            raise Unauthorized("The staff session has ended; log in again.")
        if user.role != "finance":
            raise NotFinance("Only finance staff use the finance API.")
        if request.method not in SAFE and not tokens_match(user.csrf_token, request.headers.get(HEADER)):
            raise NotFinance(f"Send the session's CSRF token in the {HEADER} header.")
        return user.actor
    caller = await provide_client(request, state)
    if caller.id not in state.settings.finance_client_ids:
        raise NotFinance("This API key's client is not one of the finance clients (finance_client_ids).")
    return f"client:{caller.id}"
