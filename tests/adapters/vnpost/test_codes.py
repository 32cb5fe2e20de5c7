"""The status map, the code tables, and the wire values: S10 numbers, times and money."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from adapters.vnpost import codes
from adapters.vnpost.wire import Number, format_time, is_valid_s10, money, parse_time, s10_check_digit
from contracts.shipping import ShipmentStatus as S

MYVNPOST_CODES = [*range(23), *range(101, 112)]


def test_every_myvnpost_code_has_a_status_and_a_name_and_nothing_else_does() -> None:
    assert sorted(codes.STATUS_MAP) == MYVNPOST_CODES
    assert sorted(codes.STATUS_NAMES) == MYVNPOST_CODES


def test_every_gateway_status_is_reached_by_some_code() -> None:
    assert set(codes.STATUS_MAP.values()) == set(S)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        # postal.md §2.8, code by code; 16 is held (ON_HOLD) rather than returning, see codes.py.
        (S.PENDING, {0, 1, 2, 3, 4}),
        (S.PICKED_UP, {6, 7, 101}),
        (S.IN_TRANSIT, {10, 11, 13, 102, 103, 104, 106, 107, 110, 111}),
        (S.ON_HOLD, {16, 105}),
        (S.OUT_FOR_DELIVERY, {12}),
        (S.DELIVERY_FAILED, {15, 108}),
        (S.DELIVERED, {14, 21, 109}),
        (S.RETURN_TO_SENDER, {17, 18, 20}),
        (S.RETURNED_TO_AGENCY, {19}),
        (S.CANCELLED, {9, 22}),
        (S.EXCEPTION, {5, 8}),
    ],
)
def test_the_status_map_groups_codes_as_the_reference_does(status: S, expected: set[int]) -> None:
    assert {code for code, mapped in codes.STATUS_MAP.items() if mapped is status} == expected


def test_a_code_outside_the_table_is_an_exception_to_look_at() -> None:
    assert codes.status_of(99) is S.EXCEPTION
    assert codes.status_name(99) == "Trạng thái 99"


def test_failure_reasons_are_vietnamese_text_with_codes() -> None:
    assert codes.FAILURE_REASONS["L01"].startswith("Người nhận vắng nhà")
    assert all(code.isascii() and text for code, text in codes.FAILURE_REASONS.items())


@pytest.mark.parametrize(
    ("serial", "digit"),
    [("47312482", 9), ("12345678", 5), ("00000000", 5), ("00000001", 4), ("00000008", 0), ("99003228", 1)],
)
def test_s10_check_digits_follow_the_upu_weights(serial: str, digit: int) -> None:
    assert s10_check_digit(serial) == digit


def test_s10_validation_accepts_good_numbers_and_flags_bad_ones() -> None:
    assert is_valid_s10("EB123456785VN")
    assert is_valid_s10("AA123456785BR")
    assert not is_valid_s10("EJ012345678VN")  # EMS's own doc sample: should end …675VN (postal.md §3.1)
    assert not is_valid_s10("BK990032289VN")  # MyVNPost's sample: the digit computes to 1
    assert not is_valid_s10("EB12345678VN")
    assert not is_valid_s10("eb123456785vn")


def test_times_are_read_and_written_in_gmt_plus_7() -> None:
    moment = parse_time("05/12/2026 10:42:17")
    assert moment.utcoffset() == timedelta(hours=7)
    assert moment == datetime.fromisoformat("2026-12-05T03:42:17+00:00")
    assert format_time(datetime.fromisoformat("2026-12-05T23:30:00+00:00")) == "06/12/2026 06:30:00"
    for bad in ("2026-12-05 10:42:17", "5/12/2026 10:42:17", "31/02/2026 10:00:00", 1733370000):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_money_is_whole_dong_from_json_numbers_only() -> None:
    assert money(Number("26000.0")) == 26000
    assert money(Number("8000")) == 8000
    for bad in (Number("26000.5"), Number("-1"), Number("1e13"), "26000", 26000, None):
        with pytest.raises(ValueError):
            money(bad)
