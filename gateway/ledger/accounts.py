"""The chart of accounts. An account is a kind and a key (the provider, the agency, the carrier): it exists
as soon as a posting names it, so there is no table of accounts to keep in step.

Amounts are signed: a debit is positive, a credit negative. An asset's balance is its debits less its
credits; a liability's is the other way round (`normal`), which is how balances are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class AccountKind(StrEnum):
    PROVIDER_CLEARING = "provider_clearing"  # key: provider. What the provider owes us until it settles
    FEES_RECEIVABLE = "fees_receivable"  # key: agency code. Fees and charges collected for the agency
    REFUNDS = "refunds"  # key: agency code. Fees and charges given back (reduces what the agency is owed)
    POSTAGE_PAYABLE = "postage_payable"  # key: postal service. Postage collected for the carrier
    COD_RECEIVABLE = "cod_receivable"  # key: carrier. Cash on delivery the carrier collected, until remitted
    COD_PAYABLE = "cod_payable"  # key: portal client id. That cash, owed to whoever sent the shipment
    PROVIDER_CHARGES = "provider_charges"  # key: provider. What the provider kept as its fee at settlement
    BANK = "bank"  # key: the bank account's label. Money that arrived
    WRITE_OFFS = "write_offs"  # key: free. Differences finance decided not to pursue
    SUSPENSE = "suspense"  # key: free. Money not yet explained (unmatched settlement lines)


NORMAL: dict[AccountKind, Side] = {
    AccountKind.PROVIDER_CLEARING: Side.DEBIT,
    AccountKind.FEES_RECEIVABLE: Side.CREDIT,
    AccountKind.REFUNDS: Side.DEBIT,
    AccountKind.POSTAGE_PAYABLE: Side.CREDIT,
    AccountKind.COD_RECEIVABLE: Side.DEBIT,
    AccountKind.COD_PAYABLE: Side.CREDIT,
    AccountKind.PROVIDER_CHARGES: Side.DEBIT,
    AccountKind.BANK: Side.DEBIT,
    AccountKind.WRITE_OFFS: Side.DEBIT,
    AccountKind.SUSPENSE: Side.CREDIT,
}

# The one postal service postage lines are collected for (a payment's fee lines do not name a carrier).
POSTAL_SERVICE = "postal"
MAX_KEY = 64


@dataclass(frozen=True, order=True)
class Account:
    kind: AccountKind
    key: str

    def __post_init__(self) -> None:
        if not self.key or len(self.key) > MAX_KEY or not self.key.isprintable():
            raise ValueError(f"an account key is 1 to {MAX_KEY} printable characters")

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.key}"


def provider_clearing(provider: str) -> Account:
    return Account(AccountKind.PROVIDER_CLEARING, provider)


def fees_receivable(agency_code: str) -> Account:
    return Account(AccountKind.FEES_RECEIVABLE, agency_code)


def refunds(agency_code: str) -> Account:
    return Account(AccountKind.REFUNDS, agency_code)


def postage_payable(postal_service: str = POSTAL_SERVICE) -> Account:
    return Account(AccountKind.POSTAGE_PAYABLE, postal_service)


def cod_receivable(carrier: str) -> Account:
    return Account(AccountKind.COD_RECEIVABLE, carrier)


def cod_payable(client_id: str) -> Account:
    return Account(AccountKind.COD_PAYABLE, client_id)


def provider_charges(provider: str) -> Account:
    return Account(AccountKind.PROVIDER_CHARGES, provider)


def bank(label: str = "settlement") -> Account:
    return Account(AccountKind.BANK, label)


def write_offs(key: str = "general") -> Account:
    return Account(AccountKind.WRITE_OFFS, key)


def suspense(key: str = "general") -> Account:
    return Account(AccountKind.SUSPENSE, key)
