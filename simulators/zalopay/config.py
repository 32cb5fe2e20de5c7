"""Who the simulator serves and how it behaves: the registered apps and the callback re-delivery policy."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class App:
    """An app registered at ZaloPay: app_id, key1 (signs the merchant's requests), key2 (signs ZaloPay's
    callbacks and redirects) and the callback URL registered for it (an order's callback_url wins)."""

    app_id: int
    key1: str = field(repr=False)
    key2: str = field(repr=False)
    callback_url: str = ""
    name: str = ""


@dataclass(frozen=True)
class SimulatorConfig:
    apps: list[App]
    public_url: str = "http://127.0.0.1:8103"
    # Waits before each re-delivery of a callback answered 0 or not answered: ZaloPay calls again at most
    # 3 times (its sample merchant code says so; the schedule itself is not published). The first comes
    # within 5 s so a developer sees it; tests pass () or zeros.
    callback_retry_intervals: tuple[float, ...] = (3.0, 15.0, 60.0)
    callback_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.apps:
            raise ValueError("the simulator needs at least one app")
        ids = [a.app_id for a in self.apps]
        if len(set(ids)) != len(ids):
            raise ValueError("app_ids must be unique")
        if len(self.callback_retry_intervals) > 3 or any(i < 0 for i in self.callback_retry_intervals):
            raise ValueError("at most 3 re-deliveries, none after a negative wait")

    def app(self, app_id: int) -> App | None:
        return next((a for a in self.apps if a.app_id == app_id), None)


# ZaloPay's public sandbox app, as its docs and samples publish it.
DEV_APP = App(
    app_id=2553,
    key1="PcY4iZIKFCIdgZvA6ueMcMHHUbRLYjPL",
    key2="kLtgPl8HHhfvMuDHPwKfgfsY4Ydm9eIz",
    callback_url="http://127.0.0.1:8000/callbacks/zalopay/ipn",
    name="DVC Gateway (dev)",
)


def default_config() -> SimulatorConfig:
    return SimulatorConfig(apps=[DEV_APP])
