"""E-mail addresses as pydantic's EmailStr validates them, with the common case decided by one pattern.

EmailStr runs the email-validator package: Unicode normalisation, IDNA, the special-use names. That is
a noticeable share of a payment creation's CPU, for addresses that are nearly always plain ASCII like
"an.nguyen@example.vn". An address made only of what the pattern below allows, on a domain
that is not special-use and with a local part that is not one of RFC 2142's mailbox names (which
email-validator lower-cases), is one email-validator accepts as it is: its normalised form is the
address itself. Anything else (upper case after the "@", Unicode, quoted or commented parts, "Name
<address>", spaces, Punycode, lengths near the limits) goes to EmailStr, so the answers and the error
messages are EmailStr's. The two lists are email-validator's own, read at import. tests/test_email_address.py
holds the two ways to the same answers.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import email_validator
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from pydantic import EmailStr, ValidatorFunctionWrapHandler, WithJsonSchema, WrapValidator

# RFC 5322 dot-atom local part; lower-case LDH labels, the last one ASCII letters only (an IDN top-level
# domain is Punycode, "xn--...", and goes to email-validator).
_PLAIN = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
).fullmatch
# email-validator refuses "ab--" at the start of a label unless it is Punycode ("xn--"): left to it.
_DOUBLE_HYPHEN = re.compile(r"[@.][a-z0-9-]{2}--").search
_SPECIAL_USE = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)  # "Postmaster@..." is stored as "postmaster@..."


def is_plain_address(value: str) -> bool:
    """True if email-validator would accept `value` unchanged; False means: ask it."""
    if len(value) > 254 or _PLAIN(value) is None or _DOUBLE_HYPHEN(value) is not None:
        return False
    local, _, domain = value.rpartition("@")
    # 64: not a limit email-validator sets when pydantic calls it, only where this pattern stops deciding.
    if len(local) > 64 or len(domain) > 253 or local.lower() in _MAILBOX_NAMES:
        return False
    # As email-validator tests it: a special-use name is refused as the domain or any parent of it.
    return not any(domain == name or domain.endswith("." + name) for name in _SPECIAL_USE)


def _plain_first(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if type(value) is str and is_plain_address(value):
        return value
    return handler(value)


def _any_case(name: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in name)


# As the OpenAPI document states it: an address, not on a special-use domain (JSON Schema's format "email"
# alone would allow "an@example.test").
_SCHEMA = {
    "type": "string",
    "format": "email",
    "pattern": rf"^(?!.*[@.](?:{'|'.join(_any_case(name) for name in _SPECIAL_USE)})\.?$)",
}
EmailAddress = Annotated[EmailStr, WrapValidator(_plain_first), WithJsonSchema(_SCHEMA)]
