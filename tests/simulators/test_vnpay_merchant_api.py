"""querydr and refund on the VNPay simulator's merchant web API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.vnpay.signing import (
    QUERYDR_RESPONSE_FIELDS,
    REFUND_REQUEST_FIELDS,
    REFUND_RESPONSE_FIELDS,
    pipe_checksum,
)
from tests.simulators.vnpay_sandbox import HASH_SECRET, TMN_CODE, Sandbox

pytestmark = pytest.mark.anyio


def assert_signed(answer: dict[str, Any], fields: tuple[str, ...]) -> None:
    assert answer["vnp_SecureHash"] == pipe_checksum(answer, fields, HASH_SECRET)


async def opened(sandbox: Sandbox, txn_ref: str = "HS0001", amount_vnd: int = 35_000) -> str:
    """Open a payment and return its vnp_CreateDate, which querydr/refund quote as vnp_TransactionDate."""
    r = await sandbox.open_payment(vnp_TxnRef=txn_ref, vnp_Amount=str(amount_vnd * 100))
    assert r.status_code == 302
    return str((await sandbox.transaction(txn_ref))["vnp_CreateDate"])


async def paid(sandbox: Sandbox, txn_ref: str = "HS0001", amount_vnd: int = 35_000) -> str:
    created = await opened(sandbox, txn_ref, amount_vnd)
    await sandbox.settle(txn_ref)
    return created


async def answer(sandbox: Sandbox, body: Any) -> dict[str, Any]:
    r = await sandbox.api(body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    result = r.json()
    assert all(isinstance(v, str) for v in result.values()), "VNPay answers every value as a string"
    return dict(result)


async def test_querydr_of_a_pending_payment_reports_01(sandbox: Sandbox) -> None:
    created = await opened(sandbox)
    result = await answer(sandbox, sandbox.querydr_body(transaction_date=created))
    assert_signed(result, QUERYDR_RESPONSE_FIELDS)
    assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"]) == ("00", "01")
    assert result["vnp_Amount"] == "3500000"
    assert result["vnp_TransactionType"] == "01"


async def test_querydr_of_a_paid_transaction_matches_the_ipn(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    [ipn] = sandbox.merchant.received
    result = await answer(sandbox, sandbox.querydr_body(transaction_date=created))
    assert_signed(result, QUERYDR_RESPONSE_FIELDS)
    assert result["vnp_Command"] == "querydr"
    assert result["vnp_Message"] == "QueryDR Success"
    assert result["vnp_TmnCode"] == TMN_CODE
    for name in (
        "vnp_TxnRef",
        "vnp_Amount",
        "vnp_BankCode",
        "vnp_PayDate",
        "vnp_TransactionNo",
        "vnp_OrderInfo",
    ):
        assert result[name] == ipn[name], name
    assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"]) == ("00", "00")
    assert len(result["vnp_ResponseId"]) == 32
    assert list(result)[-1] == "vnp_SecureHash"


async def test_querydr_accepts_numbers_and_hashes_them_as_sent(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    body = sandbox.querydr_body(transaction_date=int(created), vnp_CreateDate=int(created))  # type: ignore[arg-type]
    result = await answer(sandbox, body)
    assert result["vnp_ResponseCode"] == "00"


async def test_querydr_of_a_failed_payment(sandbox: Sandbox) -> None:
    created = await opened(sandbox)
    await sandbox.settle(response_code="51")
    result = await answer(sandbox, sandbox.querydr_body(transaction_date=created))
    assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"], result["vnp_TransactionNo"]) == (
        "00",
        "02",
        "0",
    )


async def test_querydr_not_found_is_91_and_signed(sandbox: Sandbox) -> None:
    result = await answer(sandbox, sandbox.querydr_body("NOPE", transaction_date="20240101101010"))
    assert result["vnp_ResponseCode"] == "91"
    assert result["vnp_Message"] == "Transaction_not_found"
    assert (result["vnp_TmnCode"], result["vnp_TxnRef"]) == (TMN_CODE, "NOPE")
    assert_signed(result, QUERYDR_RESPONSE_FIELDS)


async def test_querydr_with_another_transaction_date_is_91(sandbox: Sandbox) -> None:
    await opened(sandbox)
    result = await answer(sandbox, sandbox.querydr_body(transaction_date="20200101000000"))
    assert result["vnp_ResponseCode"] == "91"


async def test_repeated_request_id_within_five_minutes_is_94(sandbox: Sandbox) -> None:
    created = await opened(sandbox)
    body = sandbox.querydr_body(transaction_date=created)
    assert (await answer(sandbox, body))["vnp_ResponseCode"] == "00"
    again = await answer(sandbox, body)
    assert again["vnp_ResponseCode"] == "94"
    assert_signed(again, QUERYDR_RESPONSE_FIELDS)


async def test_bad_checksum_is_97(sandbox: Sandbox) -> None:
    created = await opened(sandbox)
    body = sandbox.querydr_body(transaction_date=created, vnp_SecureHash="0" * 128)
    result = await answer(sandbox, body)
    assert result["vnp_ResponseCode"] == "97"
    assert_signed(result, QUERYDR_RESPONSE_FIELDS)
    tampered = sandbox.querydr_body(transaction_date=created)
    tampered["vnp_TxnRef"] = "HS0002"
    assert (await answer(sandbox, tampered))["vnp_ResponseCode"] == "97"


async def test_unknown_tmn_code_is_02(sandbox: Sandbox) -> None:
    result = await answer(sandbox, sandbox.querydr_body(transaction_date="20240101101010", vnp_TmnCode="OTHER123"))
    assert result["vnp_ResponseCode"] == "02"
    assert {"vnp_ResponseId", "vnp_Command", "vnp_Message"} <= set(result)


@pytest.mark.parametrize(
    "overrides",
    [
        {"vnp_Version": "2.0.0"},
        {"vnp_TransactionDate": "2024-01-01"},
        {"vnp_RequestId": ""},
        {"vnp_RequestId": "x" * 33},
        {"vnp_IpAddr": None},
    ],
)
async def test_malformed_querydr_is_03(sandbox: Sandbox, overrides: dict[str, Any]) -> None:
    body = sandbox.querydr_body(transaction_date="20240101101010", **overrides)
    result = await answer(sandbox, body)
    assert result["vnp_ResponseCode"] == "03"
    assert_signed(result, QUERYDR_RESPONSE_FIELDS)


async def test_non_json_body_is_03(sandbox: Sandbox) -> None:
    r = await sandbox.client.post("/merchant_webapi/api/transaction", content=b"vnp_Command=querydr")
    assert r.status_code == 200
    assert r.json()["vnp_ResponseCode"] == "03"


async def test_full_refund(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    result = await answer(sandbox, sandbox.refund_body(35_000, "02", transaction_date=created))
    assert_signed(result, REFUND_RESPONSE_FIELDS)
    assert (result["vnp_ResponseCode"], result["vnp_Message"]) == ("00", "Refund success")
    # Accepted and still processing at VNPay, as real refund answers show.
    assert (result["vnp_TransactionType"], result["vnp_TransactionStatus"]) == ("02", "05")
    assert result["vnp_Amount"] == "3500000"
    original = (await sandbox.transaction())["vnp_TransactionNo"]
    assert result["vnp_TransactionNo"] != original

    # querydr of a refunded transaction reports its latest refund: type, number and status.
    query = await answer(sandbox, sandbox.querydr_body(transaction_date=created))
    assert_signed(query, QUERYDR_RESPONSE_FIELDS)
    assert (query["vnp_TransactionType"], query["vnp_TransactionStatus"], query["vnp_Amount"]) == (
        "02",
        "05",
        "3500000",
    )
    assert query["vnp_TransactionNo"] == result["vnp_TransactionNo"]
    assert (await sandbox.transaction())["refunded_amount"] == 35_000


async def test_querydr_follows_the_latest_refund_as_it_completes_or_is_refused(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    first = sandbox.refund_body(10_000, "03", transaction_date=created)
    first_answer = await answer(sandbox, first)
    second = sandbox.refund_body(5_000, "03", transaction_date=created)
    second_answer = await answer(sandbox, second)
    query = await answer(sandbox, sandbox.querydr_body(transaction_date=created))
    assert (query["vnp_TransactionNo"], query["vnp_TransactionStatus"]) == (second_answer["vnp_TransactionNo"], "05")

    done = await sandbox.client.post(
        f"/_sim/vnpay/transactions/HS0001/refunds/{second['vnp_RequestId']}", json={"transaction_status": "00"}
    )
    assert done.status_code == 200, done.text
    query = await answer(sandbox, sandbox.querydr_body(transaction_date=created))
    assert (query["vnp_TransactionType"], query["vnp_TransactionStatus"]) == ("03", "00")

    refused = await sandbox.client.post(
        f"/_sim/vnpay/transactions/HS0001/refunds/{second['vnp_RequestId']}", json={"transaction_status": "09"}
    )
    assert refused.status_code == 200
    assert (await sandbox.transaction())["refunded_amount"] == 10_000  # a refused refund gives nothing back
    assert first_answer["vnp_TransactionNo"] != second_answer["vnp_TransactionNo"]
    unknown = await sandbox.client.post(
        "/_sim/vnpay/transactions/HS0001/refunds/nope", json={"transaction_status": "00"}
    )
    assert unknown.status_code == 404
    not_a_refund_status = await sandbox.client.post(
        f"/_sim/vnpay/transactions/HS0001/refunds/{second['vnp_RequestId']}", json={"transaction_status": "01"}
    )
    assert not_a_refund_status.status_code == 422


async def test_partial_refunds_then_the_rest(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    first = await answer(sandbox, sandbox.refund_body(10_000, "03", transaction_date=created))
    assert (first["vnp_ResponseCode"], first["vnp_TransactionType"]) == ("00", "03")
    # A "full" refund must now be exactly what is left.
    wrong_full = await answer(sandbox, sandbox.refund_body(35_000, "02", transaction_date=created))
    assert wrong_full["vnp_ResponseCode"] == "03"
    rest = await answer(sandbox, sandbox.refund_body(25_000, "02", transaction_date=created))
    assert rest["vnp_ResponseCode"] == "00"
    txn = await sandbox.transaction()
    assert [r["amount"] for r in txn["refunds"]] == [10_000, 25_000]
    done = await answer(sandbox, sandbox.refund_body(1_000, "03", transaction_date=created))
    assert done["vnp_ResponseCode"] == "94"


async def test_over_refund_is_rejected_with_03(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    over = await answer(sandbox, sandbox.refund_body(40_000, "03", transaction_date=created))
    assert over["vnp_ResponseCode"] == "03"
    assert_signed(over, REFUND_RESPONSE_FIELDS)
    partial_of_all = await answer(sandbox, sandbox.refund_body(35_000, "03", transaction_date=created))
    assert partial_of_all["vnp_ResponseCode"] == "03"
    assert (await sandbox.transaction())["refunds"] == []


async def test_refund_of_a_failed_or_pending_payment_is_95(sandbox: Sandbox) -> None:
    created = await opened(sandbox)
    pending = await answer(sandbox, sandbox.refund_body(35_000, "02", transaction_date=created))
    assert pending["vnp_ResponseCode"] == "95"
    await sandbox.settle(response_code="24")
    failed = await answer(sandbox, sandbox.refund_body(35_000, "02", transaction_date=created))
    assert failed["vnp_ResponseCode"] == "95"
    assert_signed(failed, REFUND_RESPONSE_FIELDS)


async def test_refund_of_an_unknown_transaction_is_91(sandbox: Sandbox) -> None:
    result = await answer(sandbox, sandbox.refund_body(35_000, "02", transaction_date="20240101101010", txn_ref="X1"))
    assert result["vnp_ResponseCode"] == "91"


async def test_refund_with_someone_elses_transaction_no_is_91(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    result = await answer(
        sandbox, sandbox.refund_body(35_000, "02", transaction_date=created, vnp_TransactionNo="99999999")
    )
    assert result["vnp_ResponseCode"] == "91"


async def test_refund_completed_at_once_answers_00_when_asked(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    await sandbox.faults(refund_pending=False)
    result = await answer(sandbox, sandbox.refund_body(35_000, "02", transaction_date=created))
    assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"]) == ("00", "00")


async def test_refund_hashed_by_the_ts_sdk_without_transaction_no_is_accepted(sandbox: Sandbox) -> None:
    # lehuygiang28/vnpay hashes a missing vnp_TransactionNo as "0" but leaves it out of the body.
    created = await paid(sandbox)
    body = sandbox.refund_body(35_000, "02", transaction_date=created)
    del body["vnp_TransactionNo"], body["vnp_SecureHash"]
    body["vnp_SecureHash"] = pipe_checksum({**body, "vnp_TransactionNo": "0"}, REFUND_REQUEST_FIELDS, HASH_SECRET)
    assert (await answer(sandbox, body))["vnp_ResponseCode"] == "00"


async def test_malformed_refund_is_03(sandbox: Sandbox) -> None:
    created = await paid(sandbox)
    for overrides in ({"vnp_TransactionType": "01"}, {"vnp_Amount": "3500050"}, {"vnp_CreateBy": ""}):
        body = sandbox.refund_body(35_000, "02", transaction_date=created, **overrides)
        assert (await answer(sandbox, body))["vnp_ResponseCode"] == "03", overrides


async def test_api_http_5xx_fault_answers_503_then_recovers(sandbox: Sandbox) -> None:
    created = await opened(sandbox)
    await sandbox.faults(api_http_5xx=2)
    for _ in range(2):
        r = await sandbox.api(sandbox.querydr_body(transaction_date=created))
        assert r.status_code == 503
    assert (await sandbox.client.get("/_sim/vnpay/faults")).json()["api_http_5xx"] == 0
    assert (await answer(sandbox, sandbox.querydr_body(transaction_date=created)))["vnp_ResponseCode"] == "00"


async def test_api_hang_and_delay_hold_the_answer(sandbox: Sandbox) -> None:
    created = await opened(sandbox)
    await sandbox.faults(api_hang=True, api_hang_seconds=0.02, api_delay_ms=10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await answer(sandbox, sandbox.querydr_body(transaction_date=created))
    assert loop.time() - started >= 0.03
    assert result["vnp_ResponseCode"] == "00"


async def test_an_unexpected_failure_is_answered_99_and_signed(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await opened(sandbox)

    def broken(*_: object) -> dict[str, str]:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("simulators.vnpay.merchant_api._querydr", broken)
    result = await answer(sandbox, sandbox.querydr_body(transaction_date=created))
    assert result["vnp_ResponseCode"] == "99"
    assert_signed(result, QUERYDR_RESPONSE_FIELDS)
