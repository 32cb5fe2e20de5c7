"""The faults of a provider's API that every simulator offers; each adds its notification faults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiFaults(BaseModel):
    # Strict: a test that sends "yes" for a switch has a bug worth a refusal, not a silent coercion.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    api_delay_ms: int = Field(default=0, ge=0, le=600_000)
    # The next N API calls answer HTTP 503; each such call uses one up.
    api_http_5xx: int = Field(default=0, ge=0, le=1000)

    def take_http_5xx(self) -> bool:
        if self.api_http_5xx <= 0:
            return False
        self.api_http_5xx -= 1
        return True
