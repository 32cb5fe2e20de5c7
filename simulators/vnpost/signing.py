"""How the simulator signs a push: SignData = base64(RSA PKCS#1 v1.5 SHA-256 signature over the Data
string's UTF-8 bytes), with its own key; and UPU S10 item numbers with their check digit."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


@lru_cache(maxsize=4)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the simulator signs with an RSA key")
    return key


def sign_data(private_key_pem: str, data: str) -> str:
    signature = _private_key(private_key_pem).sign(data.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def s10_check_digit(serial: str) -> int:
    """S = Σ dᵢ·wᵢ over the 8 serial digits; C = 11 − S mod 11, with 10 → 0 and 11 → 5 (UPU S10)."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("an S10 serial is 8 digits")
    c = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return 0 if c == 10 else 5 if c == 11 else c


def s10(service_indicator: str, serial: int, country: str = "VN") -> str:
    digits = f"{serial:08d}"
    return f"{service_indicator}{digits}{s10_check_digit(digits)}{country}"
