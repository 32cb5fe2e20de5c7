"""The ledger as the finance API shows it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AccountBalanceOut(BaseModel):
    kind: str = Field(description="provider_clearing, fees_receivable, refunds, postage_payable, cod_receivable, ...")
    key: str = Field(description="The provider, agency code, carrier or label the account is for")
    normal_side: str = Field(description="debit or credit: the side on which `balance` is positive")
    debits: int
    credits: int
    balance: int = Field(description="VND, positive on the account's normal side")


class BalancesOut(BaseModel):
    accounts: list[AccountBalanceOut]
    total_debits: int
    total_credits: int = Field(description="Always equal to total_debits: every entry balances")
