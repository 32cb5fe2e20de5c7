"""Faults a test can switch on to make the simulator misbehave the way payOS sometimes does."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    # Merchant API.
    api_delay_ms: int = Field(default=0, ge=0, le=600_000)
    # The next N API calls answer HTTP 503; each such call uses one up.
    api_http_5xx: int = Field(default=0, ge=0, le=1000)

    # Webhooks.
    webhook_drop: bool = False
    webhook_duplicate: int = Field(default=0, ge=0, le=20)
    # Hold each webhook back until the next link's webhook has gone out (payOS's queue delivers in no
    # promised order).
    webhook_out_of_order: bool = False
    webhook_delay_ms: int = Field(default=0, ge=0, le=600_000)

    def take_http_5xx(self) -> bool:
        if self.api_http_5xx <= 0:
            return False
        self.api_http_5xx -= 1
        return True
