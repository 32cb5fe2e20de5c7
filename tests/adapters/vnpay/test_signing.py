from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.vnpay import signing
from tests.vnpay_vectors import EXAMPLE, EXAMPLE_HASH, EXAMPLE_QUERY, EXAMPLE_SECRET


def test_published_example_query_string_byte_for_byte() -> None:
    assert signing.canonical_query(EXAMPLE) == EXAMPLE_QUERY


def test_published_example_hash() -> None:
    assert signing.sign_query(EXAMPLE, EXAMPLE_SECRET) == EXAMPLE_HASH


def test_hash_fields_and_empty_values_are_not_signed() -> None:
    extra = {**EXAMPLE, "vnp_SecureHash": "x", "vnp_SecureHashType": "HmacSHA512", "vnp_BankCode": ""}
    assert signing.sign_query(extra, EXAMPLE_SECRET) == EXAMPLE_HASH


def test_verify_accepts_uppercase_digest_and_rejects_tampering() -> None:
    signed = {**EXAMPLE, "vnp_SecureHash": EXAMPLE_HASH.upper()}
    assert signing.verify_query(signed, EXAMPLE_SECRET)
    assert not signing.verify_query({**signed, "vnp_Amount": "1806100"}, EXAMPLE_SECRET)
    assert not signing.verify_query(signed, EXAMPLE_SECRET + "x")
    assert not signing.verify_query(EXAMPLE, EXAMPLE_SECRET)  # no hash at all


def test_pipe_checksum_joins_fields_in_order_with_missing_as_empty() -> None:
    body = {
        "vnp_RequestId": "r1",
        "vnp_Version": "2.1.0",
        "vnp_Command": "querydr",
        "vnp_TmnCode": "T",
        "vnp_TxnRef": "5",
        "vnp_TransactionDate": "20210801153333",
        "vnp_CreateDate": "20210801160000",
        "vnp_IpAddr": "10.0.0.1",
    }
    data = "r1|2.1.0|querydr|T|5|20210801153333|20210801160000|10.0.0.1|"
    expected = hmac.new(b"S", data.encode(), hashlib.sha512).hexdigest()
    assert signing.pipe_checksum(body, signing.QUERYDR_REQUEST_FIELDS, "S") == expected


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)


@given(st.dictionaries(st.from_regex(r"vnp_[A-Za-z]{1,12}", fullmatch=True), text, min_size=1, max_size=12))
def test_round_trip_through_a_query_string(params: dict[str, str]) -> None:
    """Whatever the values, the receiver rebuilds the signed string from the decoded query and agrees."""
    params.pop("vnp_SecureHash", None)
    params.pop("vnp_SecureHashType", None)
    query = signing.canonical_query(params) + "&vnp_SecureHash=" + signing.sign_query(params, "k")
    received = dict(parse_qsl(query, keep_blank_values=True))
    assert signing.verify_query(received, "k")


@given(st.dictionaries(st.from_regex(r"vnp_[A-Za-z]{1,12}", fullmatch=True), text | st.just(""), max_size=12))
def test_canonical_query_is_urlencode_of_the_signed_fields(params: dict[str, str]) -> None:
    # The published samples sign what urllib.parse.urlencode writes; canonical_query's own encoder must
    # write exactly that for every value (spaces, "~", "*", new lines, Vietnamese, emoji, ...).
    signed = sorted((k, v) for k, v in params.items() if v != "" and k not in signing.HASH_FIELDS)
    assert signing.canonical_query(params) == urlencode(signed)


def test_form_encode_leaves_unreserved_text_alone_and_encodes_the_rest() -> None:
    assert signing.form_encode("20261129230000") == "20261129230000"
    assert signing.form_encode("a-b_c.d~e") == "a-b_c.d~e"
    assert signing.form_encode("Thanh toán 1/2*") == "Thanh+to%C3%A1n+1%2F2%2A"
    assert signing.form_encode("ok\n") == "ok%0A"  # not a pattern that lets a final new line through


@given(st.text(alphabet=st.sampled_from("ab_vnp=&%+2A0fFzé ~\n"), max_size=60))
def test_parse_query_reads_as_parse_qsl(raw: str) -> None:
    # Broken escapes ("%", "%zz"), empty pairs, keys without "=", repeated keys: as the stdlib reads them.
    assert signing.parse_query(raw) == dict(parse_qsl(raw, keep_blank_values=True))


def test_verified_fields_accepts_each_way_the_sender_may_have_signed() -> None:
    # Signed over the pairs as sent (PHP-style encoding of "*"), over the canonical re-encoding, and a forgery.
    params = {**EXAMPLE, "vnp_OrderInfo": "Thanh toan *dac biet*"}
    canonical = signing.canonical_query(params)
    as_sent = canonical.replace("*", "%2A")
    for signed_over in (as_sent, canonical):
        digest = signing.hmac_sha512(EXAMPLE_SECRET, signed_over)
        assert signing.verified_fields(f"{as_sent}&vnp_SecureHash={digest}", EXAMPLE_SECRET) == params
    forged = signing.hmac_sha512(EXAMPLE_SECRET, as_sent + "&vnp_Extra=1")
    with pytest.raises(signing.QueryRefused):
        signing.verified_fields(f"{as_sent}&vnp_SecureHash={forged}", EXAMPLE_SECRET)


def test_verified_fields_of_the_published_example_in_any_pair_order() -> None:
    pairs = [*EXAMPLE_QUERY.split("&"), f"vnp_SecureHash={EXAMPLE_HASH}"]
    assert signing.verified_fields("&".join(reversed(pairs)), EXAMPLE_SECRET) == EXAMPLE


@given(st.dictionaries(st.from_regex(r"vnp_[A-Za-z]{1,12}", fullmatch=True), text, min_size=1, max_size=12))
def test_verified_fields_are_exactly_what_was_signed(params: dict[str, str]) -> None:
    params.pop("vnp_SecureHash", None)
    params.pop("vnp_SecureHashType", None)
    query = signing.canonical_query(params) + "&vnp_SecureHash=" + signing.sign_query(params, "k")
    assert signing.verified_fields(query, "k") == params
