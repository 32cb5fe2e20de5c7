"""Faults a test can switch on to make the simulator misbehave the way a real provider sometimes does."""

from __future__ import annotations

from pydantic import Field

from simulators.kit.faults import ApiFaults


class Faults(ApiFaults):
    """The Open API's faults (/v2/*), and the callback's."""

    callback_drop: bool = False
    callback_duplicate: int = Field(default=0, ge=0, le=20)
    # Hold each callback back until the next order's callback has gone out.
    callback_out_of_order: bool = False
    callback_delay_ms: int = Field(default=0, ge=0, le=600_000)

    # ZaloPay answers a refund 3 (processing) and completes it later; False answers 1 at once.
    refund_pending: bool = True
