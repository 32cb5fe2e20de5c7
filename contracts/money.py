"""Money is a whole number of đồng. VND has no minor unit (ISO 4217 exponent 0)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

MAX_VND = 100_000_000_000  # 100 billion: above any fee; keeps ×100 wire amounts within VNPay's 12 digits

# StrictInt refuses 1000.0, "1000" and True, so a float can never become money.
VND = Annotated[StrictInt, Field(ge=1, le=MAX_VND, description="Amount in VND, a whole number of đồng")]
