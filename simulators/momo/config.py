"""Who the simulator serves and how it behaves: the partners it knows and the IPN re-delivery schedule."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Merchant:
    """A MoMo partner: partnerCode, accessKey and secretKey. MoMo sends each IPN to the ipnUrl named in the
    order, so no URL is registered here."""

    partner_code: str
    access_key: str
    secret_key: str = field(repr=False)
    name: str = ""


@dataclass(frozen=True)
class SimulatorConfig:
    merchants: list[Merchant]
    public_url: str = "http://127.0.0.1:8102"
    # Waits before each further IPN delivery while the merchant has not answered 204 (MoMo's own schedule
    # is not published; the first re-delivery comes within 5 s so a developer sees it).
    ipn_retry_intervals: tuple[float, ...] = (3, 10, 30, 60, 300)
    # MoMo waits 15 s for the merchant's answer.
    ipn_timeout: float = 15.0
    # What one payment may be: captureWallet takes 1,000 to 50,000,000 đồng, payWithATM from 10,000.
    min_amount: int = 1_000
    min_amount_atm: int = 10_000
    max_amount: int = 50_000_000
    # How long a payment link stays open when the create names no orderExpireTime (minutes). UNVERIFIED:
    # MoMo's default is not published; the 100 minutes here only keep a developer's link alive.
    default_expire_minutes: int = 100

    def __post_init__(self) -> None:
        if not self.merchants:
            raise ValueError("the simulator needs at least one merchant")
        codes = [m.partner_code for m in self.merchants]
        if len(set(codes)) != len(codes):
            raise ValueError("partner codes must be unique")
        if any(i < 0 for i in self.ipn_retry_intervals):
            raise ValueError("IPN retry intervals cannot be negative")

    def merchant(self, partner_code: object) -> Merchant | None:
        return next((m for m in self.merchants if m.partner_code == partner_code), None)


# MoMo's own public test merchant, as its samples publish it.
DEV_MERCHANT = Merchant(
    partner_code="MOMO",
    access_key="F8BBA842ECF85",
    secret_key="K951B6PE1waDMi640xX08PD3vg6EkVlz",  # noqa: S106 - MoMo's public test merchant
    name="MoMo test merchant",
)
