"""Everything a request handler needs, kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.datastructures import State

from .callback import CallbackDispatcher
from .config import SimulatorConfig
from .faults import Faults
from .store import Store

STATE_KEY = "zalopay_simulator"


@dataclass
class SimulatorState:
    config: SimulatorConfig
    store: Store
    callbacks: CallbackDispatcher
    faults: Faults = field(default_factory=Faults)


def simulator_of(state: State) -> SimulatorState:
    sim = state[STATE_KEY]
    assert isinstance(sim, SimulatorState)
    return sim
