"""The VNPay simulator's test-control API, index page and command line."""

from __future__ import annotations

import argparse

import httpx
import pytest

from adapters.vnpay.signing import verify_query
from simulators.vnpay import DEV_MERCHANT, Merchant, SimulatorConfig, create_app
from simulators.vnpay.__main__ import parse_merchant
from tests.simulators.vnpay_sandbox import (
    HASH_SECRET,
    IPN_URL,
    RETURN_URL,
    TMN_CODE,
    Sandbox,
    asgi,
    make_config,
    query_of,
)

pytestmark = pytest.mark.anyio

DEFAULT_FAULTS = {
    "api_delay_ms": 0,
    "api_hang": False,
    "api_hang_seconds": 60.0,
    "api_http_5xx": 0,
    "ipn_drop": False,
    "ipn_duplicate": 0,
    "ipn_out_of_order": False,
    "ipn_delay_ms": 0,
    "refund_pending": True,
}


async def test_settle_returns_the_transaction_with_its_signed_return_url(sandbox: Sandbox) -> None:
    await sandbox.open_payment()
    txn = await sandbox.settle(response_code="00")
    assert txn["status"] == "succeeded"
    assert (txn["vnp_ResponseCode"], txn["vnp_TransactionStatus"]) == ("00", "00")
    assert txn["amount"] == 35_000
    assert txn["vnp_Amount"] == "3500000"
    assert txn["return_url"].startswith(RETURN_URL + "?")
    assert verify_query(query_of(txn["return_url"]), HASH_SECRET)
    assert len(txn["ipn"]["deliveries"]) == 1


@pytest.mark.parametrize(("code", "status"), [("24", "02"), ("11", "02"), ("51", "02"), ("07", "07")])
async def test_settle_with_a_failure_code(sandbox: Sandbox, code: str, status: str) -> None:
    await sandbox.open_payment()
    txn = await sandbox.settle(response_code=code)
    assert (txn["vnp_ResponseCode"], txn["vnp_TransactionStatus"]) == (code, status)


async def test_settle_unknown_is_404_and_finished_is_409(sandbox: Sandbox) -> None:
    r = await sandbox.client.post("/_sim/vnpay/transactions/NOPE", json={"response_code": "00"})
    assert r.status_code == 404
    await sandbox.open_payment()
    await sandbox.settle()
    r = await sandbox.client.post("/_sim/vnpay/transactions/HS0001", json={"response_code": "24"})
    assert r.status_code == 409


@pytest.mark.parametrize(
    "body", [{"response_code": "0"}, {"response_code": "42"}, {"response_code": "00", "extra": 1}, {}]
)
async def test_settle_validates_its_input(sandbox: Sandbox, body: dict[str, object]) -> None:
    await sandbox.open_payment()
    r = await sandbox.client.post("/_sim/vnpay/transactions/HS0001", json=body)
    assert r.status_code == 422
    r = await sandbox.client.post("/_sim/vnpay/transactions/HS0001", content=b"not json")
    assert r.status_code == 400


async def test_transactions_are_per_merchant() -> None:
    other = Merchant("OTHER001", "OTHERSECRETOTHERSECRETOTHERSECRE", "http://other.test/ipn", "Other")
    app = create_app(make_config(merchants=[Merchant(TMN_CODE, HASH_SECRET, IPN_URL), other]))
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=asgi(app), base_url="http://sandbox.test") as client,
    ):
        sandbox = Sandbox(app=app, client=client, merchant=None, config=make_config())  # type: ignore[arg-type]
        r = await client.get(sandbox.pay_url(secret=other.hash_secret, vnp_TmnCode="OTHER001"))
        assert r.status_code == 302
        assert "PaymentMethod" in r.headers["location"]
        assert (await client.get("/_sim/vnpay/transactions/HS0001")).status_code == 404
        r = await client.get("/_sim/vnpay/transactions/HS0001", params={"tmn_code": "OTHER001"})
        assert r.status_code == 200
        assert r.json()["ipn"]["url"] == "http://other.test/ipn"


async def test_faults_get_put_merges_delete_resets(sandbox: Sandbox) -> None:
    assert (await sandbox.client.get("/_sim/vnpay/faults")).json() == DEFAULT_FAULTS
    await sandbox.faults(ipn_drop=True)
    merged = await sandbox.faults(ipn_duplicate=3)
    assert merged == {**DEFAULT_FAULTS, "ipn_drop": True, "ipn_duplicate": 3}
    r = await sandbox.client.delete("/_sim/vnpay/faults")
    assert r.status_code == 200
    assert r.json() == DEFAULT_FAULTS


@pytest.mark.parametrize("patch", [{"ipn_drop": "sometimes"}, {"api_delay_ms": -1}, {"no_such_fault": True}])
async def test_bad_faults_are_422_and_change_nothing(sandbox: Sandbox, patch: dict[str, object]) -> None:
    r = await sandbox.client.put("/_sim/vnpay/faults", json=patch)
    assert r.status_code == 422
    assert (await sandbox.client.get("/_sim/vnpay/faults")).json() == DEFAULT_FAULTS


async def test_faults_body_must_be_an_object(sandbox: Sandbox) -> None:
    assert (await sandbox.client.put("/_sim/vnpay/faults", json=[1])).status_code == 400


async def test_health_and_index_never_show_secrets(sandbox: Sandbox) -> None:
    health = await sandbox.client.get("/_sim/vnpay/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    index = await sandbox.client.get("/")
    assert index.status_code == 200
    assert TMN_CODE in index.text
    assert IPN_URL in index.text
    assert "9704198526191432198" in index.text
    assert HASH_SECRET not in index.text


def test_default_merchant_is_the_dev_sandbox_terminal() -> None:
    assert DEV_MERCHANT.tmn_code == "DVCGW001"
    assert DEV_MERCHANT.ipn_url == "http://127.0.0.1:8000/callbacks/vnpay/ipn"
    assert HASH_SECRET not in repr(DEV_MERCHANT)
    assert DEV_MERCHANT.hash_secret not in repr(DEV_MERCHANT)


def test_config_refuses_no_or_duplicate_merchants() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SimulatorConfig(merchants=[])
    with pytest.raises(ValueError, match="unique"):
        SimulatorConfig(merchants=[DEV_MERCHANT, DEV_MERCHANT])


def test_merchant_argument_keeps_the_colons_of_the_ipn_url() -> None:
    merchant = parse_merchant("ABCD1234:SECRET:http://127.0.0.1:9000/ipn")
    assert (merchant.tmn_code, merchant.hash_secret, merchant.ipn_url) == (
        "ABCD1234",
        "SECRET",
        "http://127.0.0.1:9000/ipn",
    )
    with pytest.raises(argparse.ArgumentTypeError):
        parse_merchant("ABCD1234:SECRET")
