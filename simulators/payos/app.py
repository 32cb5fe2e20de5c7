"""The Litestar application of the payOS simulator."""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.datastructures import State

from .api import API_HANDLERS
from .config import SimulatorConfig
from .control import CONTROL_HANDLERS
from .page import PAGE_HANDLERS
from .settlement_file import SETTLEMENT_HANDLERS
from .state import STATE_KEY, SimulatorState
from .store import Store
from .webhook import WebhookSender


def create_app(
    config: SimulatorConfig | None = None, *, webhook_transport: httpx.AsyncBaseTransport | None = None
) -> Litestar:
    """Build a simulator. `webhook_transport` lets tests route webhooks into an in-process ASGI app."""
    config = config or SimulatorConfig()
    # The sender reads the faults in force at send time; PUT/DELETE replace the Faults object.
    sender = WebhookSender(config, faults=lambda: sim.faults, transport=webhook_transport)
    sim = SimulatorState(config=config, store=Store(), sender=sender)

    async def stop_webhooks() -> None:
        await sim.sender.aclose()

    return Litestar(
        route_handlers=[*API_HANDLERS, *CONTROL_HANDLERS, *PAGE_HANDLERS, *SETTLEMENT_HANDLERS],
        state=State({STATE_KEY: sim}),
        on_shutdown=[stop_webhooks],
        openapi_config=None,
    )
