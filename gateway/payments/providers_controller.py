"""GET /v1/providers: what a portal may offer its citizens, and what it may offer them now."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from contracts.payments import ProviderOut
from contracts.providers import Capability
from gateway.auth import Caller
from gateway.db.request_session import READ_ONLY
from gateway.deps import provide_client
from gateway.openapi import PORTAL_KEY, problems


class ProviderController(Controller):
    path = "/v1/providers"
    tags = ["providers"]
    dependencies = {"client": Provide(provide_client)}
    security = PORTAL_KEY

    @get("/", operation_id="listProviders", opt=READ_ONLY, responses=problems())
    async def list_providers(self, state: State, client: NamedDependency[Caller]) -> list[ProviderOut]:
        """The enabled providers, their amount limits, what they can do, and their health in this process."""
        providers = state.providers
        out = []
        for name in providers.names():
            provider = providers.get(name)
            can = provider.capabilities
            out.append(
                ProviderOut(
                    name=name,
                    display_name=provider.display_name,
                    max_amount=provider.max_amount,
                    refund=Capability.REFUND in can,
                    partial_refund=Capability.PARTIAL_REFUND in can,
                    refund_window_days=None if provider.refund_window is None else provider.refund_window.days,
                    min_refund_amount=provider.min_refund_amount,
                    qr=Capability.QR in can,
                    health=providers.health(name).value,
                )
            )
        return out
