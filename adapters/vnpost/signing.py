"""VNPost's push signature: SignData is base64 of an RSA PKCS#1 v1.5 signature with SHA-256 over the exact
bytes of the Data string (UTF-8), made with VNPost's private key; the partner holds the public key.

The legacy donhang.vnpost.vn push carries {Data, SendDate, SignData} and its receivers configure an RSA
public key (postal.md §2.2); the padding and hash are not published (UNVERIFIED): PKCS#1 v1.5 with SHA-256
is what .NET's RSA.SignData defaults to for the scheme VNPost's systems are built on.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature as BadSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# A 4096-bit key signs 512 bytes, 684 in base64; anything longer is not a signature of ours to check.
MAX_SIGNATURE_CHARS = 1024


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.strip().encode())
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise ValueError("VNPost's push key must be an RSA public key of at least 2048 bits")
    return key


def verify(key: rsa.RSAPublicKey, data: str, sign_data: str) -> bool:
    """Whether `sign_data` is VNPost's signature of `data` as it was sent."""
    if len(sign_data) > MAX_SIGNATURE_CHARS:
        return False
    try:
        signature = base64.b64decode(sign_data, validate=True)
        key.verify(signature, data.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (BadSignature, binascii.Error, ValueError):
        return False
    return True
