"""VNPay API 2.1.0 checksums.

Two schemes exist. The redirect flow (payment URL, return URL, IPN) signs the form-encoded, key-sorted
query string; the merchant web API (querydr, refund) signs a pipe-joined list of fields in a fixed
order. Both are lowercase hex HMAC-SHA512 with the merchant's hash secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import quote_plus, unquote_plus

HASH_FIELDS = frozenset({"vnp_SecureHash", "vnp_SecureHashType"})

QUERYDR_REQUEST_FIELDS = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
REFUND_REQUEST_FIELDS = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TransactionType",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_TransactionNo",
    "vnp_TransactionDate",
    "vnp_CreateBy",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
QUERYDR_RESPONSE_FIELDS = (
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
)
REFUND_RESPONSE_FIELDS = QUERYDR_RESPONSE_FIELDS[:-2]


def hmac_sha512(secret: str, data: str) -> str:
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


# The characters quote_plus leaves as they are: most values (codes, amounts, times) are made of nothing
# else, and testing for that is a tenth of the cost of quote_plus.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def form_encode(text: str) -> str:
    """`text` as urllib.parse.quote_plus encodes it (the encoding VNPay's samples sign)."""
    return text if _UNRESERVED(text) else quote_plus(text)


def form_decode(text: str) -> str:
    """`text` as urllib.parse.unquote_plus decodes it; text with nothing encoded (keys, codes) as it is."""
    return unquote_plus(text) if "%" in text or "+" in text else text


def parse_query(raw_query: str) -> dict[str, str]:
    """A query string's fields, as dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True)) reads
    them (the last of a repeated field wins)."""
    params: dict[str, str] = {}
    for pair in raw_query.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            params[form_decode(key)] = form_decode(value)
    return params


def canonical_query(params: Mapping[str, str]) -> str:
    """The string VNPay signs: vnp_* fields but the hash fields, empty values dropped, sorted, form-encoded
    (as urllib.parse.urlencode does).

    It is also the query string itself, so building and signing cannot drift apart.
    """
    items = sorted((k, str(v)) for k, v in params.items() if k.startswith("vnp_") and k not in HASH_FIELDS and v != "")
    return "&".join(f"{form_encode(k)}={form_encode(v)}" for k, v in items)


def sign_query(params: Mapping[str, str], secret: str) -> str:
    return hmac_sha512(secret, canonical_query(params))


def signed_as_sent(raw_query: str) -> list[str]:
    """The strings a sender may have signed, taken from the query string exactly as it arrived.

    Senders sign their own encoding: PHP's urlencode, JavaScript's URLSearchParams, .NET's UrlEncode
    and Python's urlencode disagree on characters such as * ~ ( ) !, and VNPay's own sample signs
    empty values too. VNPay accepts all of them, so a verifier checks the pairs as sent, in the order
    sent and sorted, besides the canonical re-encoding.
    """
    return list(_as_sent(raw_query))


def _as_sent(raw_query: str) -> Iterator[str]:
    # The pairs in the order sent, then (only if asked for, and only if it differs) sorted by key.
    pairs = [
        pair
        for pair in raw_query.split("&")
        if pair.startswith("vnp_") and form_decode(pair.partition("=")[0]) not in HASH_FIELDS
    ]
    as_sent = "&".join(pairs)
    yield as_sent
    by_key = "&".join(sorted(pairs, key=lambda pair: form_decode(pair.partition("=")[0])))
    if by_key != as_sent:
        yield by_key


def verify_query(params: Mapping[str, str], secret: str, raw_query: str | None = None) -> bool:
    given = params.get("vnp_SecureHash", "")
    if not given:
        return False
    return any(constant_time_equal(given, hmac_sha512(secret, data)) for data in _candidates(params, raw_query))


def _candidates(params: Mapping[str, str], raw_query: str | None) -> Iterator[str]:
    # Lazily, cheapest first: nearly every sender signs the pairs it sends, so one HMAC usually settles it.
    if raw_query:
        yield from _as_sent(raw_query)
    yield canonical_query(params)


def pipe_checksum(body: Mapping[str, object], fields: Iterable[str], secret: str) -> str:
    """Checksum of the merchant web API: the named fields joined by '|', a missing one as ''."""
    data = "|".join("" if body.get(f) is None else str(body.get(f)) for f in fields)
    return hmac_sha512(secret, data)


def constant_time_equal(given: str, expected: str) -> bool:
    # Libraries differ in the case of the hex digest they send, so compare case-insensitively.
    return hmac.compare_digest(given.lower().encode(), expected.lower().encode())
