"""The enabled payment providers, built once per app from settings."""

from __future__ import annotations

import httpx

from adapters.vnpay.config import VNPayConfig
from adapters.vnpay.provider import VNPayProvider
from contracts.providers import PaymentProvider
from gateway.clock import Clock
from gateway.errors import ProviderDisabled
from gateway.settings import Settings


class Providers:
    def __init__(self, providers: dict[str, PaymentProvider]) -> None:
        self._providers = providers

    def get(self, name: str) -> PaymentProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise ProviderDisabled(f"Provider '{name}' is not enabled on this gateway.") from None

    async def aclose(self) -> None:
        for provider in self._providers.values():
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()


def build_providers(settings: Settings, clock: Clock, transport: httpx.AsyncBaseTransport | None = None) -> Providers:
    enabled: dict[str, PaymentProvider] = {}
    if settings.vnpay.enabled:
        vn = settings.vnpay
        config = VNPayConfig(
            tmn_code=vn.tmn_code,
            hash_secret=vn.hash_secret.get_secret_value(),
            payment_url=vn.payment_url,
            api_url=vn.api_url,
            server_ip=vn.server_ip,
            timeout_seconds=vn.timeout_seconds,
        )
        enabled["vnpay"] = VNPayProvider(config, transport=transport, now=clock.now)
    return Providers(enabled)
