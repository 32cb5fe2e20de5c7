"""Faults a test can switch on to make the simulator misbehave the way a real carrier sometimes does."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    # The partner API (/customer-partner/*).
    api_delay_ms: int = Field(default=0, ge=0, le=600_000)
    api_http_5xx: int = Field(default=0, ge=0, le=1000)  # the next N API calls answer 503

    # Status pushes.
    push_drop: bool = False
    push_duplicate: int = Field(default=0, ge=0, le=20)
    # Hold each push back until the next push has gone out, so the two arrive the wrong way round.
    push_out_of_order: bool = False
    push_delay_ms: int = Field(default=0, ge=0, le=600_000)

    def take_http_5xx(self) -> bool:
        if self.api_http_5xx <= 0:
            return False
        self.api_http_5xx -= 1
        return True
