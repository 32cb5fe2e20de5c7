"""The postal carrier shipments are booked with, built from settings.

Carrier adapters register a builder here (name -> build(settings, clock, transport)); the gateway runs
without one, and its shipment endpoints then answer 503 carrier-not-configured.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from contracts.shipping import Carrier
from gateway.clock import Clock
from gateway.settings import Settings

CarrierBuilder = Callable[[Settings, Clock, httpx.AsyncBaseTransport | None], Carrier | None]
BUILDERS: dict[str, CarrierBuilder] = {}


def build_carrier(
    settings: Settings, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
) -> Carrier | None:
    builder = BUILDERS.get(settings.shipment_carrier)
    return builder(settings, clock, transport) if builder else None
