"""An EMVCo merchant-presented QR payload for an order, as ZaloPay's qr_code carries one."""

from __future__ import annotations


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"EMVCo field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), the checksum EMVCo's tag 63 carries."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def emvco_payload(token: str, amount: int, reference: str, merchant: str) -> str:
    body = "".join(
        [
            _tlv("00", "01"),
            _tlv("01", "12"),  # dynamic: one order, one amount
            _tlv("26", _tlv("00", "vn.zalopay") + _tlv("01", token[:60])),
            _tlv("52", "0000"),
            _tlv("53", "704"),  # VND
            _tlv("54", str(amount)),
            _tlv("58", "VN"),
            _tlv("59", (merchant or "ZaloPay Merchant")[:25]),
            _tlv("60", "Ho Chi Minh"),
            _tlv("62", _tlv("05", reference[:25])),
        ]
    )
    body += "6304"
    return body + f"{crc16_ccitt(body.encode()):04X}"
