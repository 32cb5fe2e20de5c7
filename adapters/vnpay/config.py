from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VNPayConfig:
    tmn_code: str
    hash_secret: str
    payment_url: str
    api_url: str
    server_ip: str = "127.0.0.1"
    timeout_seconds: float = 30.0

    def __repr__(self) -> str:  # the hash secret must never reach a log line
        return f"VNPayConfig(tmn_code={self.tmn_code!r}, payment_url={self.payment_url!r})"
