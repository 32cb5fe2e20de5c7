"""Faults a test can switch on to make the simulator misbehave the way payOS sometimes does."""

from __future__ import annotations

from pydantic import Field

from simulators.kit.faults import ApiFaults


class Faults(ApiFaults):
    """The merchant API's faults, and the webhook's."""

    webhook_drop: bool = False
    webhook_duplicate: int = Field(default=0, ge=0, le=20)
    # Hold each webhook back until the next link's webhook has gone out (payOS's queue delivers in no
    # promised order).
    webhook_out_of_order: bool = False
    webhook_delay_ms: int = Field(default=0, ge=0, le=600_000)
