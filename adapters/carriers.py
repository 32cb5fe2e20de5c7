"""Every postal carrier the gateway can book with, by name: the one place that names them (the payment
providers have theirs in adapters/registry.py).

Adding a carrier is its package under adapters/, its simulator, and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.registry import Simulator
from adapters.vnpost.provider import VNPostProvider
from adapters.vnpost.settings import VNPostSettings
from contracts.shipping import Carrier


@dataclass(frozen=True)
class CarrierEntry:
    settings: type[Any]  # a pydantic-settings class reading the carrier's own DVCGW_<NAME>_ variables
    build: Callable[[Any, httpx.AsyncBaseTransport | None], Carrier]
    simulator: Simulator


def _vnpost(settings: VNPostSettings, transport: httpx.AsyncBaseTransport | None) -> Carrier:
    return VNPostProvider(settings.config(), transport=transport)


CARRIERS: dict[str, CarrierEntry] = {
    "vnpost": CarrierEntry(VNPostSettings, _vnpost, Simulator("VNPost", "simulators.vnpost", 8201)),
}


def carrier_settings_from_environment() -> dict[str, Any]:
    return {name: entry.settings() for name, entry in CARRIERS.items()}
