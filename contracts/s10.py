"""UPU S10 item identifiers (e.g. EB123456785VN): two service letters, an eight-digit serial, a check digit
and the issuing operator's ISO 3166 country code (reference: shared/reference/postal.md §3.1).

The carrier assigns the number and its number is the truth: the gateway checks it to warn, never to refuse.
"""

from __future__ import annotations

import re

_FORMAT = re.compile(r"\A[A-Z]{2}[0-9]{9}[A-Z]{2}\Z")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
MAX_LENGTH = 13


def check_digit(serial: str) -> int:
    """The S10 check digit of an eight-digit serial: 11 - (weighted sum mod 11), with 10 → 0 and 11 → 5."""
    if len(serial) != 8 or not serial.isascii() or not serial.isdigit():
        raise ValueError("an S10 serial is eight digits")
    digit = 11 - sum(int(d) * w for d, w in zip(serial, _WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(digit, digit)


def is_well_formed(item_number: str) -> bool:
    """Two letters, nine digits, two letters: what an item number must look like to be stored and searched."""
    return _FORMAT.match(item_number) is not None


def is_valid(item_number: str) -> bool:
    """Well formed and its check digit right."""
    return is_well_formed(item_number) and check_digit(item_number[2:10]) == int(item_number[10])


def make(service: str, serial: str, country: str = "VN") -> str:
    """The item number with its check digit (simulators and tests make valid ones)."""
    return f"{service}{serial}{check_digit(serial)}{country}"
