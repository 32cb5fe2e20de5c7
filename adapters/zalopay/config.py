from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ZaloPayConfig:
    app_id: int
    key1: str  # signs what the merchant sends (create, query, refund, query_refund)
    key2: str  # signs what ZaloPay sends (the callback)
    api_url: str  # the host's root: /v2/create, /v2/query, /v2/refund and /v2/query_refund hang off it
    app_user: str = "dvc-gateway"
    timeout_seconds: float = 30.0

    def __repr__(self) -> str:  # the keys must never reach a log line
        return f"ZaloPayConfig(app_id={self.app_id!r}, api_url={self.api_url!r})"
