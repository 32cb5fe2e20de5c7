"""The simulator's own signing against VNPay's published vectors and known answers computed here, and the
rule that keeps it its own: nothing in simulators/ imports the adapter it is there to test."""

from __future__ import annotations

import ast
import hashlib
import hmac
from pathlib import Path

import pytest

from simulators.vnpay.signing import (
    QUERYDR_ANSWER_ORDER,
    QUERYDR_REQUEST_ORDER,
    REFUND_ANSWER_ORDER,
    REFUND_REQUEST_ORDER,
    checked_fields,
    hash_matches,
    pipe_hash,
    secure_hash,
    signed_string,
)
from tests.vnpay_vectors import EXAMPLE, EXAMPLE_HASH, EXAMPLE_QUERY, EXAMPLE_SECRET

SIMULATORS = Path(__file__).resolve().parents[2] / "simulators"
SECRET = "SIMKITSECRET0000000000000000001"


def reference_hmac(data: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


def test_published_example_signed_string_byte_for_byte() -> None:
    assert signed_string(EXAMPLE) == EXAMPLE_QUERY


def test_published_example_hash() -> None:
    assert secure_hash(EXAMPLE, EXAMPLE_SECRET) == EXAMPLE_HASH


def test_published_example_hash_ignores_the_hash_fields_and_empty_values() -> None:
    extra = {**EXAMPLE, "vnp_SecureHash": "x", "vnp_SecureHashType": "HmacSHA512", "vnp_BankCode": ""}
    assert secure_hash(extra, EXAMPLE_SECRET) == EXAMPLE_HASH


@pytest.mark.parametrize("digest", [EXAMPLE_HASH, EXAMPLE_HASH.upper()])
def test_published_example_query_is_accepted_as_signed(digest: str) -> None:
    assert checked_fields(f"{EXAMPLE_QUERY}&vnp_SecureHash={digest}", EXAMPLE_SECRET) == EXAMPLE


@pytest.mark.parametrize(
    "query",
    [
        EXAMPLE_QUERY.replace("vnp_Amount=1806000", "vnp_Amount=1806100") + f"&vnp_SecureHash={EXAMPLE_HASH}",
        f"{EXAMPLE_QUERY}&vnp_Amount=1806000&vnp_SecureHash={EXAMPLE_HASH}",
        EXAMPLE_QUERY,
    ],
    ids=["a signed field changed", "a field sent twice", "no hash"],
)
def test_published_example_altered_is_refused(query: str) -> None:
    assert checked_fields(query, EXAMPLE_SECRET) is None


# querydr/refund: the values joined by "|" in the order VNPay documents, written out here by hand.
QUERYDR_REQUEST = {
    "vnp_RequestId": "a1b2c3",
    "vnp_Version": "2.1.0",
    "vnp_Command": "querydr",
    "vnp_TmnCode": "DEMOV210",
    "vnp_TxnRef": "5",
    "vnp_OrderInfo": "Truy van giao dich 5",
    "vnp_TransactionDate": "20210801153333",
    "vnp_CreateDate": "20210801160000",
    "vnp_IpAddr": "10.0.0.1",
}
QUERYDR_REQUEST_DATA = "a1b2c3|2.1.0|querydr|DEMOV210|5|20210801153333|20210801160000|10.0.0.1|Truy van giao dich 5"

REFUND_REQUEST = {
    "vnp_RequestId": "r9",
    "vnp_Version": "2.1.0",
    "vnp_Command": "refund",
    "vnp_TmnCode": "DEMOV210",
    "vnp_TransactionType": "03",
    "vnp_TxnRef": "5",
    "vnp_Amount": 1000000,  # a JSON number is hashed as its decimal text
    "vnp_OrderInfo": "Hoan tien 5",
    "vnp_TransactionDate": "20210801153333",
    "vnp_CreateBy": "ops",
    "vnp_CreateDate": "20210802090000",
    "vnp_IpAddr": "10.0.0.1",
}
# vnp_TransactionNo is optional in a refund: absent, it is hashed as nothing.
REFUND_REQUEST_DATA = "r9|2.1.0|refund|DEMOV210|03|5|1000000||20210801153333|ops|20210802090000|10.0.0.1|Hoan tien 5"

ANSWER = {
    "vnp_ResponseId": "f00d",
    "vnp_Command": "querydr",
    "vnp_ResponseCode": "00",
    "vnp_Message": "QueryDR Success",
    "vnp_TmnCode": "DEMOV210",
    "vnp_TxnRef": "5",
    "vnp_Amount": "1806000",
    "vnp_BankCode": "NCB",
    "vnp_PayDate": "20210801153610",
    "vnp_TransactionNo": "13563322",
    "vnp_TransactionType": "01",
    "vnp_TransactionStatus": "00",
    "vnp_OrderInfo": "Thanh toan don hang :5",
    "vnp_FeeAmount": "0",  # not signed
}
ANSWER_DATA = "f00d|querydr|00|QueryDR Success|DEMOV210|5|1806000|NCB|20210801153610|13563322|01|00"
# The querydr answer ends with the two promotion fields, absent here; the refund answer has neither.
QUERYDR_ANSWER_DATA = ANSWER_DATA + "|Thanh toan don hang :5||"
REFUND_ANSWER_DATA = ANSWER_DATA + "|Thanh toan don hang :5"


@pytest.mark.parametrize(
    ("body", "order", "data"),
    [
        (QUERYDR_REQUEST, QUERYDR_REQUEST_ORDER, QUERYDR_REQUEST_DATA),
        (REFUND_REQUEST, REFUND_REQUEST_ORDER, REFUND_REQUEST_DATA),
        (ANSWER, QUERYDR_ANSWER_ORDER, QUERYDR_ANSWER_DATA),
        (ANSWER, REFUND_ANSWER_ORDER, REFUND_ANSWER_DATA),
    ],
    ids=["querydr request", "refund request", "querydr answer", "refund answer"],
)
def test_pipe_checksum_known_answers(body: dict[str, object], order: str, data: str) -> None:
    assert pipe_hash(body, order, SECRET) == reference_hmac(data)


def test_pipe_checksum_compares_in_either_case_and_only_for_the_same_digest() -> None:
    digest = reference_hmac(QUERYDR_REQUEST_DATA)
    assert hash_matches(digest.upper(), pipe_hash(QUERYDR_REQUEST, QUERYDR_REQUEST_ORDER, SECRET))
    assert not hash_matches(digest, pipe_hash({**QUERYDR_REQUEST, "vnp_TxnRef": "6"}, QUERYDR_REQUEST_ORDER, SECRET))
    assert not hash_matches("Ω" + digest[1:], digest)


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_the_simulators_import_nothing_from_the_adapters_or_the_gateway() -> None:
    sources = sorted(SIMULATORS.rglob("*.py"))
    assert sources, "no simulator sources found"
    offending = {
        str(path.relative_to(SIMULATORS)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] in ("adapters", "gateway")
        )
        for path in sources
    }
    assert {path: modules for path, modules in offending.items() if modules} == {}


def test_the_simulators_shared_kit_belongs_to_no_one_simulator() -> None:
    kit = sorted((SIMULATORS / "kit").rglob("*.py"))
    assert kit, "no simulators/kit sources found"
    offending = {
        str(path.relative_to(SIMULATORS)): sorted(
            m for m in _imported_modules(path) if m.startswith("simulators.") and not m.startswith("simulators.kit")
        )
        for path in kit
    }
    assert {path: modules for path, modules in offending.items() if modules} == {}
