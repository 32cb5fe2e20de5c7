"""Faults a test can switch on to make the simulator misbehave the way a real provider sometimes does."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    # The Open API (/v2/*).
    api_delay_ms: int = Field(default=0, ge=0, le=600_000)
    # The next N API calls answer HTTP 503; each such call uses one up.
    api_http_5xx: int = Field(default=0, ge=0, le=1000)

    # Callbacks.
    callback_drop: bool = False
    callback_duplicate: int = Field(default=0, ge=0, le=20)
    # Hold each callback back until the next order's callback has gone out.
    callback_out_of_order: bool = False
    callback_delay_ms: int = Field(default=0, ge=0, le=600_000)

    # ZaloPay answers a refund 3 (processing) and completes it later; False answers 1 at once.
    refund_pending: bool = True

    def take_http_5xx(self) -> bool:
        if self.api_http_5xx <= 0:
            return False
        self.api_http_5xx -= 1
        return True
