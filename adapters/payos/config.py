from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PayOSConfig:
    client_id: str
    api_key: str
    checksum_key: str
    api_url: str  # payOS's API root: https://api-merchant.payos.vn, or the simulator's
    timeout_seconds: float = 30.0

    def __repr__(self) -> str:  # the API and checksum keys must never reach a log line
        return f"PayOSConfig(client_id={self.client_id!r}, api_url={self.api_url!r})"
