"""Everything a request handler needs, kept on `app.state` rather than injected by name."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.datastructures import State

from .config import SimulatorConfig
from .faults import Faults
from .ipn import IpnDispatcher
from .store import Store

STATE_KEY = "vnpay_simulator"


@dataclass
class SimulatorState:
    config: SimulatorConfig
    store: Store
    ipn: IpnDispatcher
    faults: Faults = field(default_factory=Faults)


def simulator_of(state: State) -> SimulatorState:
    sim = state[STATE_KEY]
    assert isinstance(sim, SimulatorState)
    return sim
