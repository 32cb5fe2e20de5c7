"""Opaque random identifiers: nothing sequential for a client to guess (OWASP API1)."""

from __future__ import annotations

import base64
import secrets


def new_id(prefix: str, nbytes: int = 15) -> str:
    token = base64.b32encode(secrets.token_bytes(nbytes)).decode().rstrip("=").lower()
    return f"{prefix}_{token}"
