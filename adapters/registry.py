"""Every payment provider the gateway can speak, by name: the one place that names them.

Adding a provider is its package under adapters/, its simulator, and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from adapters.momo.provider import MoMoProvider
from adapters.momo.settings import MoMoSettings
from adapters.payos.provider import PayOSProvider
from adapters.payos.settings import PayOSSettings
from adapters.vnpay.provider import VNPayProvider
from adapters.vnpay.settings import VNPaySettings
from adapters.zalopay.provider import ZaloPayProvider
from adapters.zalopay.settings import ZaloPaySettings
from contracts.providers import PaymentProvider


class ProviderSettings(Protocol):
    enabled: bool
    timeout_seconds: float

    def uses_simulator_secret(self) -> bool: ...


@dataclass(frozen=True)
class Simulator:
    """The provider's simulator as `make run` starts it: `python -m MODULE --port PORT`."""

    title: str
    module: str
    port: int


@dataclass(frozen=True)
class Entry:
    settings: type[Any]  # a pydantic-settings class reading the provider's own DVCGW_<NAME>_ variables
    build: Callable[[Any, Callable[[], datetime], httpx.AsyncBaseTransport | None], PaymentProvider]
    simulator: Simulator


def _vnpay(settings: VNPaySettings, now: Callable[[], datetime], transport: httpx.AsyncBaseTransport | None) -> Any:
    return VNPayProvider(settings.config(), transport=transport, now=now)


def _momo(settings: MoMoSettings, now: Callable[[], datetime], transport: httpx.AsyncBaseTransport | None) -> Any:
    return MoMoProvider(settings.config(), transport=transport, now=now)


def _zalopay(settings: ZaloPaySettings, now: Callable[[], datetime], transport: httpx.AsyncBaseTransport | None) -> Any:
    return ZaloPayProvider(settings.config(), transport=transport, now=now)


def _payos(settings: PayOSSettings, now: Callable[[], datetime], transport: httpx.AsyncBaseTransport | None) -> Any:
    return PayOSProvider(settings.config(), transport=transport, now=now)


REGISTRY: dict[str, Entry] = {
    "vnpay": Entry(VNPaySettings, _vnpay, Simulator("VNPay", "simulators.vnpay", 8101)),
    "momo": Entry(MoMoSettings, _momo, Simulator("MoMo", "simulators.momo", 8102)),
    "zalopay": Entry(ZaloPaySettings, _zalopay, Simulator("ZaloPay", "simulators.zalopay", 8103)),
    "payos": Entry(PayOSSettings, _payos, Simulator("payOS", "simulators.payos", 8104)),
}


def settings_from_environment() -> dict[str, Any]:
    return {name: entry.settings() for name, entry in REGISTRY.items()}
