"""The simulator's own VNPay redirect-flow signing, written apart from adapters/vnpay so that a signing
bug on one side fails a test instead of being mirrored on the other.

VNPay 2.1.0 signs the vnp_* fields but vnp_SecureHash and vnp_SecureHashType, empty values dropped,
sorted by name, joined as urllib.parse.urlencode writes them, with HMAC-SHA512 in hex.
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
