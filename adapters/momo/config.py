from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MoMoConfig:
    partner_code: str
    access_key: str
    secret_key: str
    api_url: str  # MoMo's host, e.g. https://test-payment.momo.vn; the /v2/gateway/api/* paths are added
    request_type: str = "captureWallet"
    lang: str = "vi"
    timeout_seconds: float = 30.0

    def __repr__(self) -> str:  # the secret key must never reach a log line
        return f"MoMoConfig(partner_code={self.partner_code!r}, api_url={self.api_url!r})"
