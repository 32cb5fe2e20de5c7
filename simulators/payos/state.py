from __future__ import annotations

from dataclasses import dataclass, field

from litestar.datastructures import State

from .config import SimulatorConfig
from .faults import Faults
from .store import Store
from .webhook import WebhookSender

STATE_KEY = "payos_simulator"


@dataclass
class SimulatorState:
    config: SimulatorConfig
    store: Store
    sender: WebhookSender
    faults: Faults = field(default_factory=Faults)


def simulator_of(state: State) -> SimulatorState:
    sim: SimulatorState = state[STATE_KEY]
    return sim
