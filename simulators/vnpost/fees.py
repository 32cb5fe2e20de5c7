"""The simulator's fee table: by service, weight and zone (same province, or another), plus add-ons.

The simulator's own numbers, in the range of VNPost's published retail tariffs; not VNPost's contract
prices, which are per partner. All in đồng.
"""

from __future__ import annotations

from .codes import COD, PICKUP_AT_ADDRESS, POSTAGE_FROM_RECIPIENT, PROOF_OF_DELIVERY, SERVICES

MAX_WEIGHT_GRAMS = 30_000
# (up to grams, same-province fee, other-province fee), then a fee per further 500 g.
BANDS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "economy": ((100, 8_000, 10_000), (250, 10_000, 13_000), (500, 13_000, 18_000), (1000, 17_000, 25_000),
                (1500, 21_000, 32_000), (2000, 25_000, 38_000)),
    "express": ((100, 11_000, 14_000), (250, 14_000, 19_000), (500, 18_000, 26_000), (1000, 24_000, 36_000),
                (1500, 30_000, 46_000), (2000, 36_000, 55_000)),
    "urgent": ((100, 30_000, 60_000), (250, 35_000, 70_000), (500, 40_000, 85_000), (1000, 50_000, 110_000),
               (1500, 60_000, 135_000), (2000, 70_000, 160_000)),
}  # fmt: skip
STEP: dict[str, tuple[int, int]] = {"economy": (2_500, 4_500), "express": (3_500, 7_000), "urgent": (8_000, 16_000)}
PICKUP_FEE = 5_000
PROOF_FEE = 3_000
COD_MIN_FEE = 10_000
COD_PER_MILLE = 8  # 0.8 % of the amount collected, at least COD_MIN_FEE


def main_fee(service: str, weight_grams: int, same_province: bool) -> int:
    kind = SERVICES[service]
    zone = 1 if same_province else 2
    for limit, *fees in BANDS[kind]:
        if weight_grams <= limit:
            return fees[zone - 1]
    last_limit, *last = BANDS[kind][-1]
    steps = -(-(weight_grams - last_limit) // 500)
    return last[zone - 1] + steps * STEP[kind][zone - 1]


def addon_fee(addons: dict[str, int | None]) -> int:
    """Fee of the add-ons asked for (code → its amount, for COD)."""
    fee = 0
    if PICKUP_AT_ADDRESS in addons:
        fee += PICKUP_FEE
    if PROOF_OF_DELIVERY in addons:
        fee += PROOF_FEE
    if COD in addons:
        amount = addons[COD] or 0
        fee += max(COD_MIN_FEE, -(-amount * COD_PER_MILLE // 1000))
    if POSTAGE_FROM_RECIPIENT in addons:
        fee += 0  # collecting the postage from the recipient costs nothing more
    return fee
