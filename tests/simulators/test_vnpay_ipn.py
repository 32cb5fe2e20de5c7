"""IPN delivery of the VNPay simulator: acknowledgement rules, retries and the IPN faults."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from adapters.vnpay.signing import verify_query
from simulators.vnpay import create_app
from tests.simulators.vnpay_sandbox import (
    HASH_SECRET,
    IPN_URL,
    FakeMerchant,
    Sandbox,
    ack,
    asgi,
    eventually,
    make_config,
)

pytestmark = pytest.mark.anyio


async def wait_acknowledged(sandbox: Sandbox, txn_ref: str = "HS0001") -> dict[str, Any]:
    async def acknowledged() -> bool:
        return bool((await sandbox.transaction(txn_ref))["ipn"]["acknowledged"])

    await eventually(acknowledged)
    return await sandbox.transaction(txn_ref)


async def test_settling_awaits_the_first_ipn_which_goes_to_the_registered_url(sandbox: Sandbox) -> None:
    await sandbox.open_payment()
    txn = await sandbox.settle()
    [delivery] = txn["ipn"]["deliveries"]
    assert txn["ipn"]["url"] == IPN_URL
    assert delivery["kind"] == "notify"
    assert (delivery["http_status"], delivery["rsp_code"], delivery["acknowledged"]) == (200, "00", True)
    [ipn] = sandbox.merchant.received
    assert verify_query(ipn, HASH_SECRET)
    assert ipn["vnp_ResponseCode"] == "00"


async def test_ipn_is_retried_until_the_merchant_answers_00(sandbox: Sandbox) -> None:
    sandbox.merchant.replies = [ack("99", "Unknow error")]
    await sandbox.open_payment()
    first = await sandbox.settle()
    assert first["ipn"]["deliveries"][0]["rsp_code"] == "99"
    assert first["ipn"]["acknowledged"] is False

    txn = await wait_acknowledged(sandbox)
    deliveries = txn["ipn"]["deliveries"]
    assert [(d["kind"], d["rsp_code"]) for d in deliveries] == [("notify", "99"), ("retry", "00")]
    await asyncio.sleep(0.05)
    assert len(sandbox.merchant.received) == 2, "no retry once acknowledged"
    assert sandbox.merchant.received[0] == sandbox.merchant.received[1]


async def test_02_already_confirmed_also_counts_as_delivered(sandbox: Sandbox) -> None:
    sandbox.merchant.replies = [ack("02", "Order already confirmed")]
    await sandbox.open_payment()
    assert (await sandbox.settle())["ipn"]["acknowledged"] is True


async def test_http_errors_non_json_and_timeouts_are_retried(sandbox: Sandbox) -> None:
    async def too_slow() -> tuple[int, bytes]:
        await asyncio.sleep(5)
        return ack()

    sandbox.merchant.replies = [(500, b'{"RspCode":"00"}'), (200, b"OK"), too_slow]
    await sandbox.open_payment()
    await sandbox.settle()
    txn = await wait_acknowledged(sandbox)
    deliveries = txn["ipn"]["deliveries"]
    assert len(deliveries) == 4
    assert deliveries[0]["http_status"] == 500
    assert not deliveries[0]["acknowledged"]
    assert deliveries[1]["error"] == "answer is not JSON"
    assert deliveries[2]["error"].startswith("timeout")
    assert deliveries[3]["acknowledged"] is True


async def test_gives_up_after_the_last_retry_interval(sandbox: Sandbox) -> None:
    sandbox.merchant.replies = [ack("97", "Invalid signature")] * 10
    await sandbox.open_payment()
    await sandbox.settle()
    await sandbox.wait_for_ipns(1 + len(sandbox.config.ipn_retry_intervals))
    await asyncio.sleep(0.05)
    assert len(sandbox.merchant.received) == 1 + len(sandbox.config.ipn_retry_intervals)


async def test_ipn_drop_sends_nothing(sandbox: Sandbox) -> None:
    await sandbox.faults(ipn_drop=True)
    await sandbox.open_payment()
    txn = await sandbox.settle()
    await asyncio.sleep(0.05)
    assert sandbox.merchant.received == []
    assert txn["ipn"]["dropped"] is True
    assert txn["ipn"]["deliveries"] == []


async def test_ipn_duplicate_sends_extra_copies(sandbox: Sandbox) -> None:
    await sandbox.faults(ipn_duplicate=2)
    await sandbox.open_payment()
    txn = await sandbox.settle()
    assert [d["kind"] for d in txn["ipn"]["deliveries"]] == ["notify", "duplicate", "duplicate"]
    received = sandbox.merchant.received
    assert len(received) == 3
    assert received[0] == received[1] == received[2]


async def test_ipn_out_of_order_replays_a_stale_failure_after_the_result(sandbox: Sandbox) -> None:
    await sandbox.faults(ipn_out_of_order=True)
    await sandbox.open_payment()
    txn = await sandbox.settle()
    final, stale = sandbox.merchant.received
    assert (final["vnp_ResponseCode"], final["vnp_TransactionStatus"]) == ("00", "00")
    assert (stale["vnp_ResponseCode"], stale["vnp_TransactionStatus"]) == ("99", "02")
    assert stale["vnp_TxnRef"] == final["vnp_TxnRef"]
    assert verify_query(stale, HASH_SECRET), "the replay is a genuine, correctly signed VNPay message"
    assert [d["kind"] for d in txn["ipn"]["deliveries"]] == ["notify", "stale"]


async def test_ipn_delay_holds_the_ipn_back(sandbox: Sandbox) -> None:
    await sandbox.faults(ipn_delay_ms=30)
    await sandbox.open_payment()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await sandbox.settle()
    assert loop.time() - started >= 0.03


async def test_resend_sends_the_ipn_again_now(sandbox: Sandbox) -> None:
    await sandbox.open_payment()
    await sandbox.settle(response_code="24")
    r = await sandbox.client.post("/_sim/vnpay/transactions/HS0001/ipn")
    assert r.status_code == 200
    attempt = r.json()
    assert (attempt["attempt"], attempt["kind"], attempt["rsp_code"]) == (2, "manual", "00")
    assert sandbox.merchant.received[1]["vnp_ResponseCode"] == "24"


async def test_resend_of_a_pending_transaction_is_409(sandbox: Sandbox) -> None:
    await sandbox.open_payment()
    r = await sandbox.client.post("/_sim/vnpay/transactions/HS0001/ipn")
    assert r.status_code == 409


async def test_shutdown_cancels_pending_retries() -> None:
    merchant = FakeMerchant(replies=[ack("99")] * 10)
    app = create_app(make_config(ipn_retry_intervals=(3600,)), ipn_transport=asgi(merchant))
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=asgi(app), base_url="http://sandbox.test") as client,
    ):
        sandbox = Sandbox(app=app, client=client, merchant=merchant, config=make_config())
        await sandbox.open_payment()
        await sandbox.settle()
        dispatcher = app.state.vnpay_simulator.ipn
        assert dispatcher.pending, "a retry is waiting"
    assert not dispatcher.pending
    assert len(merchant.received) == 1
