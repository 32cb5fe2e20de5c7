"""The postal carrier shipments are booked with, built from settings (adapters/carriers.py names them).

Without one (an unknown name, or the carrier disabled) the gateway runs and its shipment endpoints answer
503 carrier-not-configured.
"""

from __future__ import annotations

import httpx

from adapters.carriers import CARRIERS
from contracts.shipping import Carrier
from gateway.settings import Settings


def build_carrier(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Carrier | None:
    entry = CARRIERS.get(settings.shipment_carrier)
    if entry is None:
        return None
    own = settings.carriers.get(settings.shipment_carrier) or entry.settings()
    if not own.enabled:
        return None
    return entry.build(own, transport)


async def close_carrier(carrier: Carrier | None) -> None:
    """Close the carrier's HTTP client, where it has one (the port does not require it)."""
    close = getattr(carrier, "aclose", None)
    if close is not None:
        await close()
