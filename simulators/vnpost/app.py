"""The Litestar application of the VNPost (MyVNPost partner API) simulator."""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.datastructures import State

from .api import API_HANDLERS, Refusal, refusal_answer
from .config import SimulatorConfig, default_config
from .control import CONTROL_HANDLERS
from .notifier import PushDispatcher
from .simulator_state import STATE_KEY, SimulatorState
from .store import Store


def create_app(
    config: SimulatorConfig | None = None, *, push_transport: httpx.AsyncBaseTransport | None = None
) -> Litestar:
    """Build a simulator. `push_transport` lets tests route pushes into an in-process ASGI app."""
    config = config or default_config()
    pushes = PushDispatcher(config, faults=lambda: sim.faults, transport=push_transport)
    sim = SimulatorState(config=config, store=Store(), pushes=pushes)

    async def stop_pushes() -> None:
        await sim.pushes.aclose()

    return Litestar(
        route_handlers=[*API_HANDLERS, *CONTROL_HANDLERS],
        state=State({STATE_KEY: sim}),
        exception_handlers={Refusal: refusal_answer},
        on_shutdown=[stop_pushes],
        openapi_config=None,
    )
