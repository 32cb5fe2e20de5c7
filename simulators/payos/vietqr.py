"""A dynamic VietQR payload (EMVCo merchant-presented QR under NAPAS 247), and its picture."""

from __future__ import annotations

import segno

NAPAS_GUID = "A000000727"
TO_ACCOUNT = "QRIBFTTA"


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def payload(bank_bin: str, account: str, amount: int, purpose: str) -> str:
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", TO_ACCOUNT)
    body = (
        _tlv("00", "01")
        + _tlv("01", "12")  # dynamic: the amount is in the code
        + _tlv("38", merchant)
        + _tlv("53", "704")
        + _tlv("54", str(amount))
        + _tlv("58", "VN")
        + _tlv("62", _tlv("08", purpose))
        + "6304"
    )
    return body + crc16(body)


def svg(text: str) -> str:
    return str(segno.make(text, error="m").svg_inline(scale=5, border=2))
