"""Money is a whole number of đồng. VND has no minor unit (ISO 4217 exponent 0)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

# The most one payment can carry through the gateway; each provider may take less (its max_amount).
MAX_VND = 9_999_999_999


def _whole_number_only(value: Any) -> Any:
    # StrictInt is not enough: a caller validating with strict=False (Litestar's pydantic plugin does)
    # switches it off, and 1000.0 would become 1000. Checking the type here holds in every mode.
    if type(value) is not int:
        raise ValueError("amount must be a whole number of VND written as a JSON integer (no decimals, no quotes)")
    return value


VND = Annotated[
    int,
    BeforeValidator(_whole_number_only),
    Field(ge=1, le=MAX_VND, description="Amount in VND: a whole number of đồng, as a JSON integer (1000, not 1000.0)"),
]
