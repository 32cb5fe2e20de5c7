"""The Litestar application of the ZaloPay sandbox simulator."""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.datastructures import State

from .api import API_HANDLERS
from .callback import CallbackDispatcher
from .config import SimulatorConfig, default_config
from .control import CONTROL_HANDLERS
from .page import PAGE_HANDLERS
from .settlement_file import SETTLEMENT_HANDLERS
from .simulator_state import STATE_KEY, SimulatorState
from .store import Store


def create_app(
    config: SimulatorConfig | None = None, *, callback_transport: httpx.AsyncBaseTransport | None = None
) -> Litestar:
    """Build a simulator. `callback_transport` lets tests route callbacks into an in-process ASGI app."""
    config = config or default_config()
    callbacks = CallbackDispatcher(config, faults=lambda: sim.faults, transport=callback_transport)
    sim = SimulatorState(config=config, store=Store(), callbacks=callbacks)

    async def stop_callbacks() -> None:
        await sim.callbacks.aclose()

    return Litestar(
        route_handlers=[*API_HANDLERS, *PAGE_HANDLERS, *CONTROL_HANDLERS, *SETTLEMENT_HANDLERS],
        state=State({STATE_KEY: sim}),
        on_shutdown=[stop_callbacks],
        openapi_config=None,
    )
