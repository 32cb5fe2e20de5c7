"""The simulator's own VNPay signing, written apart from adapters/vnpay so that a signing bug on one side
fails a test instead of being mirrored on the other.

The redirect flow (payment URL, return URL, IPN) of VNPay 2.1.0 signs the vnp_* fields but vnp_SecureHash
and vnp_SecureHashType, empty values dropped, sorted by name, joined as urllib.parse.urlencode writes
them. The merchant web API (querydr, refund) signs the values of a fixed list of fields joined by "|".
Both are HMAC-SHA512 in hex.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import unquote_plus, urlencode

_UNSIGNED = ("vnp_SecureHash", "vnp_SecureHashType")


def _hmac(secret: str, data: str) -> str:
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def signed_string(fields: Mapping[str, str]) -> str:
    kept = sorted((k, v) for k, v in fields.items() if k.startswith("vnp_") and k not in _UNSIGNED and v)
    return urlencode(kept)


def secure_hash(fields: Mapping[str, str], secret: str) -> str:
    return _hmac(secret, signed_string(fields))


def checked_fields(raw_query: str, secret: str) -> dict[str, str] | None:
    """The vnp_* fields of a merchant's query string, decoded, if its hash signs all of them; else None.

    Merchants sign their own URL encoding (PHP, JavaScript and .NET disagree on * ~ ( ) !), and PHP's
    sample signs empty fields too, so the hash may be over the pairs as sent, as sent but sorted, or the
    canonical form. A field sent twice, in any encoding, is refused.
    """
    sent = [part for part in raw_query.split("&") if part]
    decoded = [(unquote_plus(part.partition("=")[0]), unquote_plus(part.partition("=")[2]), part) for part in sent]
    names = [name for name, _, _ in decoded]
    if len(names) != len(set(names)):
        return None
    signed = [(name, value, part) for name, value, part in decoded if name.startswith("vnp_") and name not in _UNSIGNED]
    given = next((value for name, value, _ in decoded if name == "vnp_SecureHash"), "").lower()
    fields = {name: value for name, value, _ in signed if value}
    candidates = {
        "&".join(part for _, _, part in signed),
        "&".join(part for _, _, part in sorted(signed)),
        signed_string(fields),
    }
    if given and any(hmac.compare_digest(given, _hmac(secret, data)) for data in candidates):
        return fields
    return None


# The merchant web API's checksum orders, written as VNPay's documentation writes them (payments.md §2.1).
QUERYDR_REQUEST_ORDER = (
    "vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TxnRef|vnp_TransactionDate|vnp_CreateDate|vnp_IpAddr"
    "|vnp_OrderInfo"
)
REFUND_REQUEST_ORDER = (
    "vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TransactionType|vnp_TxnRef|vnp_Amount|vnp_TransactionNo"
    "|vnp_TransactionDate|vnp_CreateBy|vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo"
)
QUERYDR_ANSWER_ORDER = (
    "vnp_ResponseId|vnp_Command|vnp_ResponseCode|vnp_Message|vnp_TmnCode|vnp_TxnRef|vnp_Amount|vnp_BankCode"
    "|vnp_PayDate|vnp_TransactionNo|vnp_TransactionType|vnp_TransactionStatus|vnp_OrderInfo|vnp_PromotionCode"
    "|vnp_PromotionAmount"
)
# A refund's answer is signed as a querydr answer without the two promotion fields.
REFUND_ANSWER_ORDER = QUERYDR_ANSWER_ORDER.removesuffix("|vnp_PromotionCode|vnp_PromotionAmount")


def pipe_string(body: Mapping[str, object], order: str) -> str:
    """The values of `order`'s fields joined by "|": an absent (or JSON null) field as nothing, a JSON
    number by its decimal text."""
    values = []
    for name in order.split("|"):
        value = body.get(name)
        values.append("" if value is None else str(value))
    return "|".join(values)


def pipe_hash(body: Mapping[str, object], order: str, secret: str) -> str:
    return _hmac(secret, pipe_string(body, order))


def hash_matches(given: str, expected: str) -> bool:
    # Client libraries send the hex digest in either case.
    return hmac.compare_digest(given.lower().encode("ascii", "replace"), expected.lower().encode("ascii"))
