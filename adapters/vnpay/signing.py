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
from typing import NamedTuple
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
    them (the last of a repeated field wins). For display and logs only: what a notification says is
    read from `verified_fields`, never from this."""
    return {pair.name: pair.value for pair in _pairs(raw_query)}


def canonical_query(params: Mapping[str, str]) -> str:
    """The string VNPay signs: vnp_* fields but the hash fields, empty values dropped, sorted, form-encoded
    (as urllib.parse.urlencode does).

    It is also the query string itself, so building and signing cannot drift apart.
    """
    items = sorted((k, str(v)) for k, v in params.items() if k.startswith("vnp_") and k not in HASH_FIELDS and v != "")
    return "&".join(f"{form_encode(k)}={form_encode(v)}" for k, v in items)


def sign_query(params: Mapping[str, str], secret: str) -> str:
    return hmac_sha512(secret, canonical_query(params))


class _Pair(NamedTuple):
    name: str  # decoded once
    value: str  # decoded once
    sent: str  # the pair exactly as it arrived


def _pairs(raw_query: str) -> list[_Pair]:
    pairs = []
    for sent in raw_query.split("&"):
        if sent:
            name, _, value = sent.partition("=")
            pairs.append(_Pair(form_decode(name), form_decode(value), sent))
    return pairs


class QueryRefused(ValueError):
    """A query string that no signature can vouch for, whatever its hash says."""


def verified_fields(raw_query: str, secret: str) -> dict[str, str]:
    """The vnp_* fields of `raw_query`, decoded once, if its vnp_SecureHash signs every one of them; empty
    values are left out, as the signer leaves them out.

    Every check is on the decoded names, so no encoding of a name (`%76np_`, `vnp%5F`) can carry a field
    around the signature: a name sent twice in any encoding is refused, and so is one that is vnp_ in
    another case, since no VNPay message holds either. Raises QueryRefused otherwise.

    Senders sign their own encoding: PHP's urlencode, JavaScript's URLSearchParams, .NET's UrlEncode and
    Python's urlencode disagree on characters such as * ~ ( ) !, and VNPay's own sample signs empty values
    too. So the signature is checked against the pairs as sent (in the order sent, then sorted by name)
    and against the canonical re-encoding; each of these strings decodes to exactly the fields returned.
    """
    pairs = _pairs(raw_query)
    names = [pair.name for pair in pairs]
    if len(set(names)) != len(names):
        raise QueryRefused("a field is sent more than once")
    if any(name[:4].lower() == "vnp_" and not name.startswith("vnp_") for name in names):
        raise QueryRefused("a field name is vnp_ in another case")
    signed = [pair for pair in pairs if pair.name.startswith("vnp_") and pair.name not in HASH_FIELDS]
    given = next((pair.value for pair in pairs if pair.name == "vnp_SecureHash"), "")
    fields = {pair.name: pair.value for pair in signed if pair.value != ""}
    if not given or not any(
        constant_time_equal(given, hmac_sha512(secret, data)) for data in _candidates(signed, fields)
    ):
        raise QueryRefused("vnp_SecureHash does not match")
    return fields


def _candidates(signed: list[_Pair], fields: dict[str, str]) -> Iterator[str]:
    # Lazily, cheapest first: nearly every sender signs the pairs it sends, so one HMAC usually settles it.
    as_sent = "&".join(pair.sent for pair in signed)
    yield as_sent
    by_name = "&".join(pair.sent for pair in sorted(signed, key=lambda pair: pair.name))
    if by_name != as_sent:
        yield by_name
    canonical = canonical_query(fields)
    if canonical not in (as_sent, by_name):
        yield canonical


def verify_query(params: Mapping[str, str], secret: str) -> bool:
    """Whether `params` (already decoded fields, e.g. a URL the gateway built) carry a matching hash."""
    given = params.get("vnp_SecureHash", "")
    return bool(given) and constant_time_equal(given, sign_query(params, secret))


def pipe_checksum(body: Mapping[str, object], fields: Iterable[str], secret: str) -> str:
    """Checksum of the merchant web API: the named fields joined by '|', a missing one as ''."""
    data = "|".join("" if body.get(f) is None else str(body.get(f)) for f in fields)
    return hmac_sha512(secret, data)


def constant_time_equal(given: str, expected: str) -> bool:
    # Libraries differ in the case of the hex digest they send, so compare case-insensitively.
    return hmac.compare_digest(given.lower().encode(), expected.lower().encode())
