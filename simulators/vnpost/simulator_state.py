"""Everything a request handler needs, kept on `app.state`, and the one way an order moves on: events
recorded, then pushed together."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.datastructures import State

from .codes import FAILURE_REASONS
from .config import SimulatorConfig
from .faults import Faults
from .notifier import PushDispatcher
from .store import Attempt, Event, Order, Push, Store

STATE_KEY = "vnpost_simulator"


@dataclass
class SimulatorState:
    config: SimulatorConfig
    store: Store
    pushes: PushDispatcher
    faults: Faults = field(default_factory=Faults)

    async def move(self, order: Order, steps: list[tuple[int, str | None]]) -> tuple[list[Event], Push, Attempt | None]:
        """Record each (status, cause) as an event of the order and push them in one Data array."""
        events = [
            self.store.record(order, status, cause, FAILURE_REASONS.get(cause) if cause else None)
            for status, cause in steps
        ]
        push = self.pushes.new_push(order, self.store.next_push_number(), events)
        attempt = await self.pushes.send(order, push)
        return events, push, attempt


def simulator_of(state: State) -> SimulatorState:
    sim = state[STATE_KEY]
    assert isinstance(sim, SimulatorState)
    return sim
