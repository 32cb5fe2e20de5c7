"""S10 item numbers and addresses on today's administrative units, without the gateway."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from vietnam_provinces import Province, Ward

from contracts import addresses, s10
from contracts.addresses import AddressIn, InvalidAddress


@pytest.mark.parametrize(
    ("serial", "digit"),
    [("47312482", 9), ("12345678", 5), ("01234567", 5), ("00000001", 4), ("00000009", 3)],
)
def test_check_digit(serial: str, digit: int) -> None:
    assert s10.check_digit(serial) == digit


def test_check_digit_ten_becomes_zero_and_eleven_five() -> None:
    assert s10.check_digit("00000050") == 0  # 5 x 9 = 45; 45 mod 11 = 1; 11 - 1 = 10 → 0
    assert s10.check_digit("00000000") == 5  # 0 mod 11 = 0; 11 - 0 = 11 → 5


@pytest.mark.parametrize("item", ["EB123456785VN", "EE123456785VN", "EJ012345675VN", "AA123456785BR"])
def test_valid_item_numbers(item: str) -> None:
    assert s10.is_valid(item)


@pytest.mark.parametrize(
    "item",
    [
        "EJ012345678VN",  # EMS's own webhook sample: the digit should be 5
        "BK990032289VN",  # MyVNPost's sample: the digit computes to 1
        "EB12345678VN",
        "eb123456785vn",
        "EB1234567855VN",
        "E1123456785VN",
        "EB１２３４５６７８５VN",  # full-width digits are digits to str.isdigit, not to S10
    ],
)
def test_invalid_item_numbers(item: str) -> None:
    assert not s10.is_valid(item)


@given(st.from_regex(r"\A[A-Z]{2}\Z"), st.from_regex(r"\A[0-9]{8}\Z"))
def test_made_numbers_are_valid_and_any_other_digit_is_not(service: str, serial: str) -> None:
    item = s10.make(service, serial)
    assert s10.is_valid(item)
    for digit in set("0123456789") - {item[10]}:
        assert not s10.is_valid(item[:10] + digit + item[11:])


def _address(**changes: str) -> AddressIn:
    values = {"name": "Nguyễn Văn An", "phone": "0912345678", "line": "12 Tràng Tiền"}
    return AddressIn.model_validate(values | {"province_code": "01", "ward_code": "00070"} | changes)


def test_the_dataset_is_todays_34_provinces() -> None:
    assert len(list(Province.iter_all())) == 34
    assert addresses.DATASET_VERSION >= "2025-07-01"


def test_a_valid_address_gets_its_official_names() -> None:
    resolved = addresses.resolve(_address(district="Quận Hoàn Kiếm"), "recipient")
    assert (resolved.province_name, resolved.ward_name) == ("Thành phố Hà Nội", "Phường Hoàn Kiếm")
    assert resolved.district_name == "Quận Hoàn Kiếm"  # kept as written for a carrier that wants one


def test_every_ward_resolves_in_its_own_province() -> None:
    for ward in Ward.iter_all():
        province = f"{int(ward.province_code):02d}"
        resolved = addresses.resolve(_address(province_code=province, ward_code=f"{int(ward.code):05d}"), "x")
        assert resolved.ward_name == ward.name


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ward_code": "99999"}, "recipient.ward_code"),
        ({"ward_code": "26740"}, "recipient.ward_code"),  # Phường Sài Gòn is in Hồ Chí Minh City (79)
        ({"province_code": "02"}, "recipient.province_code"),  # Hà Giang, merged into Tuyên Quang
        ({"province_code": "99"}, "recipient.province_code"),
    ],
)
def test_unknown_codes_and_a_ward_of_another_province_name_the_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidAddress) as caught:
        addresses.resolve(_address(**changes), "recipient")
    assert caught.value.field == field


@pytest.mark.parametrize("changes", [{"ward_code": "70"}, {"province_code": "1"}, {"phone": "12345"}, {"line": ""}])
def test_malformed_addresses_are_refused_by_the_model(changes: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        _address(**changes)


@pytest.mark.parametrize("changes", [{"province_code": "０１"}, {"ward_code": "０００７０"}, {"phone": "０912345678"}])
def test_codes_are_ascii_digits(changes: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        _address(**changes)
