"""Addresses on the administrative units in force since 1 July 2025: 34 provinces, and wards directly under
them (no districts). The official list comes from the maintained `vietnam-provinces` dataset, never from a
table typed here; its data version is `DATASET_VERSION`.

A district is still accepted, and kept as written, for a carrier that asks for one; it is not checked
(the units it named no longer exist).
"""

from __future__ import annotations

from typing import Annotated

import vietnam_provinces
from pydantic import Field, StringConstraints
from vietnam_provinces import Province, Ward

from contracts.email_address import EmailAddress
from contracts.payments import Name, Text, _In
from contracts.shipping import PostalAddress

DATASET_VERSION = vietnam_provinces.__data_version__

ProvinceCodeText = Annotated[
    str,
    StringConstraints(max_length=2, pattern=r"^[0-9]{2}$"),
    Field(description="Mã tỉnh, two digits (e.g. 01 Hà Nội)"),
]
# A mobile (0 + 9 digits) or a landline with its area code (0 + 10 digits, e.g. 024 3926 0000).
Phone = Annotated[str, StringConstraints(max_length=13, pattern=r"^(\+84|0)[0-9]{9,10}$")]
WardCodeText = Annotated[
    str,
    StringConstraints(max_length=5, pattern=r"^[0-9]{5}$"),
    Field(description="Mã xã/phường, five digits (e.g. 00070)"),
]


class AddressIn(_In):
    """A person and where they are, as the portal sends it."""

    name: Name
    phone: Phone
    email: EmailAddress | None = None
    line: Text = Field(description="House number and street, as the citizen wrote it")
    province_code: ProvinceCodeText
    ward_code: WardCodeText
    district: Name | None = Field(default=None, description="Kept for a carrier that still asks for one")


class InvalidAddress(ValueError):
    """A code that is not on the official list, or a ward not in the address's province; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _province(code: str) -> Province | None:
    try:
        return Province.from_code(int(code))  # type: ignore[arg-type]  # an int is what the enum holds
    except ValueError:
        return None


def _ward(code: str) -> Ward | None:
    try:
        return Ward.from_code(int(code))  # type: ignore[arg-type]
    except ValueError:
        return None


def resolve(address: AddressIn, field: str) -> PostalAddress:
    """The address with the official names of its province and ward; raises InvalidAddress naming
    `field`.province_code or `field`.ward_code."""
    province = _province(address.province_code)
    if province is None:
        raise InvalidAddress(f"{field}.province_code", f"No province {address.province_code} on today's list.")
    ward = _ward(address.ward_code)
    if ward is None:
        raise InvalidAddress(f"{field}.ward_code", f"No ward {address.ward_code} on today's list.")
    if int(ward.province_code) != int(province.code):
        raise InvalidAddress(
            f"{field}.ward_code", f"Ward {address.ward_code} is not in province {address.province_code}."
        )
    return PostalAddress(
        name=address.name,
        phone=address.phone,
        line=address.line,
        province_code=address.province_code,
        province_name=province.name,
        ward_code=address.ward_code,
        ward_name=ward.name,
        district_name=address.district,
        email=str(address.email) if address.email else None,
    )
