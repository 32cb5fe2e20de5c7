"""Faults a test can switch on to make the simulator misbehave the way a real provider sometimes does."""

from __future__ import annotations

from pydantic import Field

from simulators.kit.faults import ApiFaults


class Faults(ApiFaults):
    """The merchant web API's faults (querydr, refund), and the IPN's."""

    api_hang: bool = False
    api_hang_seconds: float = Field(default=60.0, gt=0, le=3600)

    # IPN.
    ipn_drop: bool = False
    ipn_duplicate: int = Field(default=0, ge=0, le=20)
    ipn_out_of_order: bool = False
    ipn_delay_ms: int = Field(default=0, ge=0, le=600_000)

    # VNPay accepts a refund as "05" (still processing; the bank completes it later), which is what
    # real answers in public code show. False answers "00", a refund completed at once.
    refund_pending: bool = True
