"""GET /v1/ledger/balances: every account's balance, for finance.

Until staff accounts with the finance role exist (gateway/staff), it takes a portal API key whose client
is listed in `finance_client_ids`; any other key gets 403: a portal sees its own payments, not every
agency's money."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import FromQuery

from contracts.ledger import AccountBalanceOut, BalancesOut
from gateway.db.request_session import READ_ONLY, request_session
from gateway.deps import provide_client
from gateway.errors import Forbidden
from gateway.ledger.accounts import NORMAL, AccountKind
from gateway.ledger.balances import balances
from gateway.openapi import PORTAL_KEY, problems


class LedgerController(Controller):
    path = "/v1/ledger"
    tags = ["ledger"]
    security = PORTAL_KEY

    @get("/balances", operation_id="ledgerBalances", opt=READ_ONLY, responses=problems(403, 422))
    async def balances(
        self, request: Request[Any, Any, Any], state: State, kind: FromQuery[AccountKind | None] = None
    ) -> BalancesOut:
        """Each account's debits, credits and balance (optionally of one kind); the totals always agree."""
        caller = await provide_client(request, state)
        if caller.id not in state.settings.finance_client_ids:
            raise Forbidden("This API key's client is not a finance client (finance_client_ids).")
        rows = await balances(request_session(state, request.scope), kind)
        return BalancesOut(
            accounts=[
                AccountBalanceOut(
                    kind=b.account.kind.value,
                    key=b.account.key,
                    normal_side=NORMAL[b.account.kind].value,
                    debits=b.debits,
                    credits=b.credits,
                    balance=b.balance,
                )
                for b in rows
            ],
            total_debits=sum(b.debits for b in rows),
            total_credits=sum(b.credits for b in rows),
        )
