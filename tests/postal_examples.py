"""Addresses of a postal shipment's two ends, on the administrative units in force since July 2025: a
citizen in Hồ Chí Minh City and a one-stop shop in Hà Nội (the carrier and slip tests share them)."""

from __future__ import annotations

from contracts.shipping import PostalAddress

AGENCY = PostalAddress(
    name="Bộ phận một cửa UBND phường Hoàn Kiếm",
    phone="02438253536",
    line="126 Hàng Trống",
    province_code="01",
    province_name="Thành phố Hà Nội",
    ward_code="00070",
    ward_name="Phường Hoàn Kiếm",
)
CITIZEN = PostalAddress(
    name="Nguyễn Thị Hằng",
    phone="0912345678",
    line="12 Nguyễn Huệ",
    province_code="79",
    province_name="Thành phố Hồ Chí Minh",
    ward_code="26734",
    ward_name="Phường Sài Gòn",
    email="hang@example.vn",
)
