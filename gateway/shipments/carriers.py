"""The postal carrier shipments are booked with, built from settings.

The carriers of adapters/carriers.py are built from their own DVCGW_<NAME>_ settings; a builder registered
here (name -> build(settings, clock, transport)) takes precedence. With neither, or with the carrier
disabled, the gateway runs without one and its shipment endpoints answer 503 carrier-not-configured.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from adapters.carriers import CARRIERS
from contracts.shipping import Carrier
from gateway.clock import Clock
from gateway.settings import Settings

CarrierBuilder = Callable[[Settings, Clock, httpx.AsyncBaseTransport | None], Carrier | None]
BUILDERS: dict[str, CarrierBuilder] = {}


def build_carrier(
    settings: Settings, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
) -> Carrier | None:
    builder = BUILDERS.get(settings.shipment_carrier)
    if builder is not None:
        return builder(settings, clock, transport)
    entry = CARRIERS.get(settings.shipment_carrier)
    if entry is None:
        return None
    carrier_settings = entry.settings()
    return entry.build(carrier_settings, transport) if carrier_settings.enabled else None
