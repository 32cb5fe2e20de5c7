"""The enabled payment providers, built once per app from settings through the registry."""

from __future__ import annotations

import httpx

from adapters.registry import REGISTRY
from contracts.providers import PaymentProvider
from gateway.clock import Clock
from gateway.errors import ProviderDisabled, UnknownProvider
from gateway.settings import Settings


class Providers:
    def __init__(self, providers: dict[str, PaymentProvider], timeouts: dict[str, float] | None = None) -> None:
        self._providers = providers
        self._timeouts = timeouts or {}

    def get(self, name: str) -> PaymentProvider:
        provider = self._providers.get(name)
        if provider is not None:
            return provider
        if name in REGISTRY:
            raise ProviderDisabled(f"Provider '{name}' is not enabled on this gateway.")
        known = ", ".join(REGISTRY)
        raise UnknownProvider(
            "One or more fields are missing or invalid; see errors.",
            errors=[{"key": "provider", "message": f"must be one of: {known}", "source": "body"}],
        )

    def names(self) -> list[str]:
        return list(self._providers)

    @property
    def longest_timeout(self) -> float:
        """The longest any provider call may take (the resolver's lease covers it)."""
        return max(self._timeouts.values(), default=30.0)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()


def build_providers(settings: Settings, clock: Clock, transport: httpx.AsyncBaseTransport | None = None) -> Providers:
    enabled: dict[str, PaymentProvider] = {}
    timeouts: dict[str, float] = {}
    for name, entry in REGISTRY.items():
        provider_settings = settings.providers.get(name) or entry.settings()
        if provider_settings.enabled:
            enabled[name] = entry.build(provider_settings, clock.now, transport)
            timeouts[name] = provider_settings.timeout_seconds
    return Providers(enabled, timeouts)
