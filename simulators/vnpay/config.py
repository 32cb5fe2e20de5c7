"""Who the simulator serves and how it behaves: the registered merchants and the IPN retry policy."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Merchant:
    """A terminal registered at VNPay: TmnCode, its hash secret and the IPN URL set in the merchant admin.

    VNPay sends IPNs to the URL registered for the terminal, never to one named in a request, so the
    simulator does the same.
    """

    tmn_code: str
    hash_secret: str = field(repr=False)
    ipn_url: str
    name: str = ""


@dataclass(frozen=True)
class SimulatorConfig:
    merchants: list[Merchant]
    # Base URL the simulator is reached at; shown on the index page and used to build absolute links.
    public_url: str = "http://127.0.0.1:8101"
    # Waits before the 2nd, 3rd, ... IPN attempt while the merchant has not acknowledged with 00/02.
    # VNPay's own schedule is not published (UNVERIFIED); this one spreads 7 retries over ~19 minutes.
    ipn_retry_intervals: tuple[float, ...] = (2, 10, 30, 60, 120, 300, 600)
    ipn_timeout: float = 10.0
    # VNPay's payment page counts down 899 s and then sends the customer to Error.html?code=15.
    payment_page_timeout_seconds: float = 900.0
    # Window in which a repeated vnp_RequestId of the merchant web API is answered 94.
    request_id_window_seconds: float = 300.0

    def __post_init__(self) -> None:
        if not self.merchants:
            raise ValueError("the simulator needs at least one merchant")
        codes = [m.tmn_code for m in self.merchants]
        if len(set(codes)) != len(codes):
            raise ValueError("merchant TmnCodes must be unique")
        if any(i < 0 for i in self.ipn_retry_intervals):
            raise ValueError("IPN retry intervals cannot be negative")

    def merchant(self, tmn_code: str) -> Merchant | None:
        return next((m for m in self.merchants if m.tmn_code == tmn_code), None)

    @property
    def default_merchant(self) -> Merchant:
        return self.merchants[0]


DEV_MERCHANT = Merchant(
    tmn_code="DVCGW001",
    hash_secret="DVCGWSANDBOXSECRETVNPAY000000001",  # noqa: S106 - the public dev sandbox secret
    ipn_url="http://127.0.0.1:8000/callbacks/vnpay/ipn",
    name="DVC Gateway (dev)",
)


def default_config() -> SimulatorConfig:
    return SimulatorConfig(merchants=[DEV_MERCHANT])
