"""The enabled payment providers, built once per app from settings through the registry, each with its
circuit breaker (gateway/payments/breaker.py)."""

from __future__ import annotations

import httpx

from adapters.registry import REGISTRY
from contracts.errors import ProviderUnavailable
from contracts.providers import PaymentProvider
from gateway.clock import Clock
from gateway.errors import ProviderDisabled, ProviderDown, UnknownProvider
from gateway.payments.breaker import Breaker, Health
from gateway.settings import Settings


class Providers:
    def __init__(
        self,
        providers: dict[str, PaymentProvider],
        timeouts: dict[str, float] | None = None,
        breakers: dict[str, Breaker] | None = None,
    ) -> None:
        self._providers = providers
        self._timeouts = timeouts or {}
        self._breakers = breakers or {}

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

    def health(self, name: str) -> Health:
        breaker = self._breakers.get(name)
        return breaker.health if breaker is not None else Health.UP

    def admit(self, name: str) -> None:
        """Raises ProviderDown while `name`'s breaker is open: a new payment would only wait on it."""
        breaker = self._breakers.get(name)
        if breaker is None or breaker.allow():
            return
        healthy = [n for n in self._providers if n != name and self.health(n) is not Health.DOWN]
        others = f" Providers taking payments now: {', '.join(healthy)}." if healthy else ""
        raise ProviderDown(
            f"{self._providers[name].display_name} is failing; new payments through it are paused.{others}",
            retry_after=breaker.retry_after(),
            alternatives=healthy,
        )

    def outcome(self, name: str, error: BaseException | None) -> None:
        """Count a call's outcome: a provider that did not answer (ProviderUnavailable) is a failure; any
        answer, a refusal included, shows it is up."""
        breaker = self._breakers.get(name)
        if breaker is None:
            return
        if isinstance(error, ProviderUnavailable):
            breaker.failed()
        else:
            breaker.succeeded()

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
    breakers: dict[str, Breaker] = {}
    for name, entry in REGISTRY.items():
        provider_settings = settings.providers.get(name) or entry.settings()
        if provider_settings.enabled:
            enabled[name] = entry.build(provider_settings, clock.now, transport)
            timeouts[name] = provider_settings.timeout_seconds
            breakers[name] = Breaker(clock, settings.breaker_failures, settings.breaker_cooldown_seconds)
    return Providers(enabled, timeouts, breakers)
