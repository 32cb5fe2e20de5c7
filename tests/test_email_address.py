"""contracts/email_address.py answers as pydantic's EmailStr does, for every input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import EmailStr, TypeAdapter, ValidationError

from contracts.email_address import EmailAddress, is_plain_address

EMAIL_STR = TypeAdapter(EmailStr)
EMAIL_ADDRESS = TypeAdapter(EmailAddress)


def answer(adapter: TypeAdapter[Any], value: str) -> str | None:
    try:
        return str(adapter.validate_python(value))
    except ValidationError:
        return None


@pytest.mark.parametrize(
    "address",
    ["an.nguyen@example.vn", "a+tag@mail.dichvucong.gov.vn", "x_y-z@a-b.c0.com", "o'neil@example.com"],
)
def test_common_addresses_are_decided_by_the_pattern(address: str) -> None:
    assert is_plain_address(address)
    assert answer(EMAIL_STR, address) == address


@pytest.mark.parametrize(
    "address",
    [
        "An@Example.VN",  # normalised by email-validator (the domain lower-cased)
        "an@ví-dụ.vn",  # IDNA
        "an@xn--v-dl-3na.vn",  # Punycode
        "an@ab--c.vn",  # refused by email-validator
        "an@a---b.vn",
        "an@example.test",  # special use
        "an@localhost",
        "Nguyen An <an@example.vn>",
        " an@example.vn",
        '"an"@example.vn',
        "an..b@example.vn",
        "a" * 65 + "@example.vn",
        "an@example.123",
        "Postmaster@example.vn",  # RFC 2142 mailbox names are lower-cased by email-validator
        "INFO@example.vn",
        "www@example.vn",
    ],
)
def test_everything_else_goes_to_email_validator(address: str) -> None:
    assert not is_plain_address(address)
    assert answer(EMAIL_ADDRESS, address) == answer(EMAIL_STR, address)


labels = st.text(alphabet="abcxn0-", min_size=1, max_size=8)
addresses = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    st.text(alphabet="aZ09.+_-'!`~", min_size=1, max_size=10)
    | st.sampled_from(["Info", "SALES", "support", "Postmaster", "wWw", "noc", "Abuse", "ftp", "infos"]),
    st.lists(labels, min_size=1, max_size=3),
    st.sampled_from(["vn", "com", "test", "local", "x", "c0", "Vn", "arpa", "onion"]),
)


@settings(max_examples=500)
@given(addresses | st.text(alphabet="ab.@-x0 <>\"'", max_size=24))
@example("a@b.vn")
@example("a@" + "b" * 63 + ".vn")
@example("a@" + "b" * 64 + ".vn")
@example("a@" + ".".join(["b" * 63] * 3) + "." + "c" * 61)
@example("a@" + ".".join(["b" * 63] * 3) + "." + "c" * 62)
def test_same_answer_as_email_str(value: str) -> None:
    expected = answer(EMAIL_STR, value)
    assert answer(EMAIL_ADDRESS, value) == expected
    if is_plain_address(value):
        assert expected == value
