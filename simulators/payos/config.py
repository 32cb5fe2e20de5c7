"""The simulator's merchants and timings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass
class Merchant:
    client_id: str
    api_key: str
    checksum_key: str
    # Where webhooks go: registered through POST /confirm-webhook, or set here.
    webhook_url: str
    name: str = "DVC Gateway (dev)"
    short_name: str = "DVCGW"
    # The bank account payments go to: a VietQR names it by the bank's BIN (970415 is VietinBank).
    bin: str = "970415"
    account_number: str = "113366668888"
    account_name: str = "CONG DICH VU CONG"

    def __repr__(self) -> str:  # the keys never reach a log line
        return f"Merchant(client_id={self.client_id!r}, webhook_url={self.webhook_url!r})"


# Published on purpose: the adapter's settings default to them (never usable in production).
DEV_MERCHANT = Merchant(
    client_id="f0267014-6a8d-54b6-8dc9-927344eb98f0",
    api_key="7a14f3e7-69c5-5600-8c4d-8b9414bac196",
    checksum_key="a1dfd1fd7a02e56a50155b3419250535818d7e79defbab1128bfd78c28d75a38",
    webhook_url="http://127.0.0.1:8000/callbacks/payos/ipn",
)


@dataclass
class SimulatorConfig:
    # A copy: confirm-webhook changes a merchant's URL, which must not leak into another simulator.
    merchants: list[Merchant] = field(default_factory=lambda: [replace(DEV_MERCHANT)])
    public_url: str = "http://127.0.0.1:8104"
    # Waits before each re-delivery of a webhook not answered 2xx (payOS retries on its own schedule;
    # the dev default re-delivers quickly so a developer sees it).
    webhook_retry_intervals: tuple[float, ...] = (3.0, 10.0, 30.0, 120.0, 600.0)
    webhook_timeout: float = 10.0
    link_lifetime_seconds: int = 15 * 60  # when a request names no expiredAt

    def merchant(self, client_id: str | None) -> Merchant | None:
        return next((m for m in self.merchants if m.client_id == client_id), None)
