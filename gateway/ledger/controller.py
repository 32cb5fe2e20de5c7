"""GET /v1/ledger/balances: every account's balance, for finance staff (a /staff session of role finance,
sent as its cookie). A portal's API key gets 403: a portal sees its own payments, not every agency's money."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import FromQuery

from contracts.ledger import AccountBalanceOut, BalancesOut
from gateway.db.request_session import request_session
from gateway.errors import Forbidden, Unauthorized
from gateway.ledger.accounts import NORMAL, AccountKind
from gateway.ledger.balances import balances
from gateway.openapi import problems
from gateway.staff.accounts import Role
from gateway.staff.guards import session_user


class LedgerController(Controller):
    path = "/v1/ledger"
    tags = ["ledger"]

    # Not READ_ONLY: resolving the staff session records when it was last seen.
    @get("/balances", operation_id="ledgerBalances", responses=problems(401, 403, portal=False))
    async def balances(
        self, request: Request[Any, Any, Any], state: State, kind: FromQuery[AccountKind | None] = None
    ) -> BalancesOut:
        """Each account's debits, credits and balance (optionally of one kind); the totals always agree."""
        user = await session_user(request)
        if user is None:
            raise Unauthorized("Log in at /staff/login as finance staff; the session cookie is the credential.")
        if user.role != Role.FINANCE.value:
            raise Forbidden("Only finance staff read the ledger.")
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
