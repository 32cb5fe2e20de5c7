"""Finishing a payment: what VNPay records once the customer pays, fails or gives up, and where it goes."""

from __future__ import annotations

from dataclasses import dataclass

from .ipn import IpnDispatcher
from .store import CARD_TYPE_ATM, TEST_CARD_BANK, Store, Transaction, mask_card_number, transaction_status_for
from .wire import append_query, signed_query


@dataclass(frozen=True)
class CardUsed:
    number: str
    holder: str


class AlreadyFinishedError(Exception):
    pass


def finish(store: Store, txn: Transaction, response_code: str, card: CardUsed | None = None) -> None:
    """Record the result. Only a debited payment (00, 07) gets a VNPay and a bank transaction number."""
    if txn.finished:
        raise AlreadyFinishedError(f"{txn.tmn_code}/{txn.txn_ref} is already finished")
    txn.response_code = response_code
    txn.transaction_status = transaction_status_for(response_code)
    txn.paid_at = store.clock()
    txn.bank_code = TEST_CARD_BANK
    txn.card_type = CARD_TYPE_ATM
    txn.trace = store.next_trace()
    if response_code in {"00", "07"}:
        txn.transaction_no = store.next_transaction_no()
        txn.bank_tran_no = store.next_bank_tran_no()
    if card is not None:
        txn.card_number_masked = mask_card_number(card.number)
        txn.card_holder = card.holder


def return_url(txn: Transaction) -> str:
    """Where the browser goes once the transaction is finished: the merchant's URL plus the signed result."""
    return append_query(txn.return_url, signed_query(txn.result_params(), txn.merchant.hash_secret))


async def finish_and_notify(
    store: Store,
    ipn: IpnDispatcher,
    txn: Transaction,
    response_code: str,
    *,
    card: CardUsed | None = None,
    wait_for_first_ipn: bool,
) -> None:
    """The control API waits for the first IPN attempt (tests need determinism); the page does not."""
    finish(store, txn, response_code, card)
    if wait_for_first_ipn:
        await ipn.notify(txn)
    else:
        ipn.notify_in_background(txn)
