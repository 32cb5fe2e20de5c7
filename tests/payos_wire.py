"""An independent reader of what payOS sends, for tests: a VietQR (EMVCo TLV) decoder with its own CRC
(binascii's CRC-CCITT), and payOS's signature recipe written once more."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any


def tlv(text: str) -> dict[str, str]:
    """EMVCo fields by tag; refuses a length that runs past the end or a tag written twice."""
    fields: dict[str, str] = {}
    at = 0
    while at < len(text):
        tag, length = text[at : at + 2], int(text[at + 2 : at + 4])
        value = text[at + 4 : at + 4 + length]
        assert len(value) == length, f"field {tag} is cut short"
        assert tag not in fields, f"field {tag} is written twice"
        fields[tag] = value
        at += 4 + length
    return fields


def crc_ok(payload: str) -> bool:
    body, crc = payload[:-4], payload[-4:]
    return body.endswith("6304") and f"{binascii.crc_hqx(body.encode(), 0xFFFF):04X}" == crc


def vietqr(payload: str) -> dict[str, Any]:
    """The fields of a dynamic VietQR, checked as NAPAS specifies."""
    assert crc_ok(payload), "CRC-16/CCITT-FALSE does not match"
    top = tlv(payload)
    merchant = tlv(top["38"])
    beneficiary = tlv(merchant["01"])
    assert (top["00"], top["01"], top["53"], top["58"]) == ("01", "12", "704", "VN")
    assert merchant["00"] == "A000000727" and merchant["02"] == "QRIBFTTA"
    return {
        "bin": beneficiary["00"],
        "account": beneficiary["01"],
        "amount": int(top["54"]),
        "purpose": tlv(top["62"])["08"],
    }


def signed(data: Mapping[str, Any], key: str) -> str:
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return json.dumps([dict(sorted(v.items())) for v in value], separators=(",", ":"), ensure_ascii=False)
        return str(value)

    message = "&".join(f"{k}={text(data[k])}" for k in sorted(data))
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
