"""Checks a `vpcpay.html` payment request the way VNPay does and turns it into a `PayRequest`.

The order of the checks follows what a merchant sees from the sandbox: an unknown terminal cannot even be
signature-checked (72), then the signature (70), then the data itself (03), the bank (76), the expiry
(15). Whether a TxnRef already exists (01) needs the store, so the payment page checks it afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .codes import API_VERSION
from .config import Merchant, SimulatorConfig
from .error_pages import (
    ERROR_BAD_FORMAT,
    ERROR_BANK_NOT_SUPPORTED,
    ERROR_INVALID_SIGNATURE,
    ERROR_PAYMENT_TIMEOUT,
    ERROR_UNKNOWN_WEBSITE,
)
from .signing import checked_fields
from .wire import parse_vnp_date

REQUIRED_FIELDS = (
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_Amount",
    "vnp_CurrCode",
    "vnp_TxnRef",
    "vnp_OrderInfo",
    "vnp_ReturnUrl",
    "vnp_IpAddr",
    "vnp_CreateDate",
    "vnp_Locale",
)
# The simulated terminal offers domestic cards of NCB only; VNBANK is VNPay's "any domestic bank" choice.
SUPPORTED_BANK_CODES = frozenset({"NCB", "VNBANK"})
# VNPay documents vn and en; copies of its own PHP sample send vi, so that is taken as vn.
LOCALES = frozenset({"vn", "en", "vi"})
MAX_WIRE_AMOUNT_DIGITS = 12  # vnp_Amount is Numeric[1,12]

_TXN_REF = re.compile(r"^[\x21-\x7e]{1,100}$")  # printable ASCII, no spaces
_RETURN_URL = re.compile(r"^https?://[^\s]+$")


@dataclass(frozen=True)
class PayRequest:
    merchant: Merchant
    version: str
    amount: int  # VND
    txn_ref: str
    order_info: str
    order_type: str
    locale: str
    return_url: str
    ip_addr: str
    create_date: str  # as sent; querydr and refund must quote it back as vnp_TransactionDate
    expire_at: datetime | None
    bank_code: str | None


@dataclass(frozen=True)
class Rejected:
    error_code: str
    reason: str


def check_pay_request(
    sent: Mapping[str, str], config: SimulatorConfig, now: datetime, raw_query: str
) -> PayRequest | Rejected:
    """`sent`: the query as decoded, only to find the terminal; everything else is read from the fields
    its signature covers."""
    merchant = config.merchant(sent.get("vnp_TmnCode", ""))
    if merchant is None:
        return Rejected(ERROR_UNKNOWN_WEBSITE, "unknown vnp_TmnCode")
    params = checked_fields(raw_query, merchant.hash_secret)
    if params is None:
        return Rejected(ERROR_INVALID_SIGNATURE, "vnp_SecureHash does not match")

    missing = [f for f in REQUIRED_FIELDS if not params.get(f)]
    if missing:
        return Rejected(ERROR_BAD_FORMAT, f"missing {', '.join(missing)}")
    version = params["vnp_Version"]
    # 2.0.x terminals still exist; with an HMAC-SHA512 hash that verified they are served like 2.1.0.
    if version != API_VERSION and not version.startswith("2.0."):
        return Rejected(ERROR_BAD_FORMAT, "unsupported vnp_Version")
    if params["vnp_Command"] != "pay":
        return Rejected(ERROR_BAD_FORMAT, "vnp_Command must be pay")
    if params["vnp_CurrCode"] != "VND":
        return Rejected(ERROR_BAD_FORMAT, "vnp_CurrCode must be VND")

    raw_amount = params["vnp_Amount"]
    if not raw_amount.isascii() or not raw_amount.isdigit() or len(raw_amount) > MAX_WIRE_AMOUNT_DIGITS:
        return Rejected(ERROR_BAD_FORMAT, "vnp_Amount must be Numeric[1,12]")
    wire_amount = int(raw_amount)
    # ×100 of a whole number of đồng: anything else would be a fraction of a đồng.
    if wire_amount <= 0 or wire_amount % 100:
        return Rejected(ERROR_BAD_FORMAT, "vnp_Amount must be a positive multiple of 100")

    txn_ref = params["vnp_TxnRef"]
    if not _TXN_REF.match(txn_ref):
        return Rejected(ERROR_BAD_FORMAT, "vnp_TxnRef must be 1-100 printable characters")
    if len(params["vnp_OrderInfo"]) > 255:
        return Rejected(ERROR_BAD_FORMAT, "vnp_OrderInfo longer than 255")
    if params["vnp_Locale"] not in LOCALES:
        return Rejected(ERROR_BAD_FORMAT, "vnp_Locale must be vn or en")
    if not _RETURN_URL.match(params["vnp_ReturnUrl"]) or len(params["vnp_ReturnUrl"]) > 255:
        return Rejected(ERROR_BAD_FORMAT, "vnp_ReturnUrl must be an http(s) URL")
    if len(params["vnp_IpAddr"]) > 45:
        return Rejected(ERROR_BAD_FORMAT, "vnp_IpAddr longer than 45")
    if parse_vnp_date(params["vnp_CreateDate"]) is None:
        return Rejected(ERROR_BAD_FORMAT, "vnp_CreateDate must be yyyyMMddHHmmss")
    expire_at = None
    if params.get("vnp_ExpireDate"):
        expire_at = parse_vnp_date(params["vnp_ExpireDate"])
        if expire_at is None:
            return Rejected(ERROR_BAD_FORMAT, "vnp_ExpireDate must be yyyyMMddHHmmss")

    bank_code = params.get("vnp_BankCode") or None
    if bank_code is not None and bank_code not in SUPPORTED_BANK_CODES:
        return Rejected(ERROR_BANK_NOT_SUPPORTED, "vnp_BankCode not offered by this terminal")
    if expire_at is not None and expire_at <= now:
        return Rejected(ERROR_PAYMENT_TIMEOUT, "vnp_ExpireDate has passed")

    return PayRequest(
        merchant=merchant,
        version=version,
        amount=wire_amount // 100,
        txn_ref=txn_ref,
        order_info=params["vnp_OrderInfo"],
        order_type=params.get("vnp_OrderType", ""),
        locale=params["vnp_Locale"],
        return_url=params["vnp_ReturnUrl"],
        ip_addr=params["vnp_IpAddr"],
        create_date=params["vnp_CreateDate"],
        expire_at=expire_at,
        bank_code=bank_code,
    )
