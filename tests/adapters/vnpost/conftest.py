from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from adapters.vnpost.config import VNPostConfig
from adapters.vnpost.settings import VNPostSettings

FIXTURES = Path(__file__).parent / "fixtures"
HOST = "https://my.vnpost.vn/MYVNP_API"


def fixture(name: str) -> Any:
    """A carrier payload as stored, without the note that says where its shape comes from."""
    data = json.loads((FIXTURES / name).read_text())
    for item in data if isinstance(data, list) else [data]:
        item.pop("_source", None)
    return data


def fixture_bytes(name: str) -> bytes:
    return json.dumps(fixture(name), ensure_ascii=False).encode()


@pytest.fixture
def config() -> VNPostConfig:
    return replace(VNPostSettings().config(), api_url=HOST, timeout_seconds=5)


class KeyPair:
    """A key pair of the test's own, to sign pushes the simulator would never send."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, data: str) -> str:
        return base64.b64encode(self.private.sign(data.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()

    def push(self, data: str) -> bytes:
        return json.dumps({"Data": data, "SendDate": "05/12/2026 10:00:00", "SignData": self.sign(data)}).encode()


@pytest.fixture(scope="session")
def keys() -> KeyPair:
    return KeyPair()
