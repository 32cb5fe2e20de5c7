"""Faults a test can switch on to make the simulator misbehave the way a real provider sometimes does."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    # Strict: a test that sends "yes" for a switch has a bug worth a 422, not a silent coercion.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    # Merchant web API (querydr, refund).
    api_delay_ms: int = Field(default=0, ge=0, le=600_000)
    api_hang: bool = False
    api_hang_seconds: float = Field(default=60.0, gt=0, le=3600)
    # The next N merchant-API calls answer HTTP 503; each such call uses one up.
    api_http_5xx: int = Field(default=0, ge=0, le=1000)

    # IPN.
    ipn_drop: bool = False
    ipn_duplicate: int = Field(default=0, ge=0, le=20)
    ipn_out_of_order: bool = False
    ipn_delay_ms: int = Field(default=0, ge=0, le=600_000)

    # VNPay accepts a refund as "05" (still processing; the bank completes it later), which is what
    # real answers in public code show. False answers "00", a refund completed at once.
    refund_pending: bool = True

    def take_http_5xx(self) -> bool:
        if self.api_http_5xx <= 0:
            return False
        self.api_http_5xx -= 1
        return True
