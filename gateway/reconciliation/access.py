"""Who may use the finance API: until staff accounts (role `finance`) are on main, a portal API key whose
client is listed in settings.finance_client_ids. Any other key is a 403 problem; no key, a 401."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State

from gateway.auth import Caller
from gateway.deps import provide_client
from gateway.reconciliation.errors import NotFinance


async def finance_caller(request: Request[Any, Any, Any], state: State) -> Caller:
    caller = await provide_client(request, state)
    if caller.id not in state.settings.finance_client_ids:
        raise NotFinance("This API key's client is not one of the finance clients (finance_client_ids).")
    return caller
