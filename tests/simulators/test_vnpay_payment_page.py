"""The customer's side of the VNPay simulator: vpcpay.html checks, the card/OTP forms, the return URL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl

import httpx
import pytest

from adapters.vnpay.signing import canonical_query, sign_query, verify_query
from simulators.vnpay import Merchant, create_app
from simulators.vnpay.wire import format_vnp_date, now_vn
from tests.simulators.vnpay_sandbox import (
    HASH_SECRET,
    RETURN_URL,
    TMN_CODE,
    Sandbox,
    asgi,
    form_actions,
    make_config,
    query_of,
)
from tests.vnpay_vectors import EXAMPLE_HASH, EXAMPLE_QUERY, EXAMPLE_SECRET

pytestmark = pytest.mark.anyio

RESULT_FIELDS = {
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_BankTranNo",
    "vnp_CardType",
    "vnp_OrderInfo",
    "vnp_PayDate",
    "vnp_ResponseCode",
    "vnp_TmnCode",
    "vnp_TransactionNo",
    "vnp_TransactionStatus",
    "vnp_TxnRef",
    "vnp_SecureHash",
}


def error_code(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    location = httpx.URL(response.headers["location"])
    assert location.path == "/paymentv2/Payment/Error.html"
    return location.params["code"]


async def pay_with_card(
    sandbox: Sandbox, *, otp: str = "123456", number: str = "9704198526191432198", **pay: str | None
) -> httpx.Response:
    _, actions = await sandbox.open_page(**pay)
    card = await sandbox.client.post(
        actions["card"], data={"card_number": number, "card_holder": "NGUYEN VAN A", "card_date": "07/15"}
    )
    assert card.status_code == 302, card.text
    otp_page = await sandbox.client.get(card.headers["location"])
    assert otp_page.status_code == 200
    assert "Mã OTP" in otp_page.text
    return await sandbox.client.post(form_actions(otp_page.text)["otp"], data={"otp": otp})


async def test_published_example_signs_to_the_documented_hash_and_is_accepted() -> None:
    params = dict(parse_qsl(EXAMPLE_QUERY, keep_blank_values=True))
    assert canonical_query(params) == EXAMPLE_QUERY
    assert sign_query(params, EXAMPLE_SECRET) == EXAMPLE_HASH
    assert verify_query({**params, "vnp_SecureHash": EXAMPLE_HASH.upper()}, EXAMPLE_SECRET)

    app = create_app(make_config(merchants=[Merchant("DEMOV210", EXAMPLE_SECRET, "http://merchant.test/ipn")]))
    async with httpx.AsyncClient(transport=asgi(app), base_url="http://sandbox.test") as client:
        r = await client.get(f"/paymentv2/vpcpay.html?{EXAMPLE_QUERY}&vnp_SecureHash={EXAMPLE_HASH}")
    assert r.status_code == 302
    assert r.headers["location"].startswith("/paymentv2/Transaction/PaymentMethod.html?token=")


async def test_secure_hash_type_is_ignored_and_2_0_versions_are_served(sandbox: Sandbox) -> None:
    r = await sandbox.open_payment(vnp_Version="2.0.1", vnp_SecureHashType="HmacSHA512")
    assert r.headers["location"].startswith("/paymentv2/Transaction/PaymentMethod.html")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"vnp_TmnCode": "UNKNOWN1"}, "72"),
        ({"vnp_Amount": "3500050"}, "03"),
        ({"vnp_Amount": "0"}, "03"),
        ({"vnp_Amount": "35000.00"}, "03"),
        ({"vnp_Amount": "1" * 13}, "03"),
        ({"vnp_CurrCode": "USD"}, "03"),
        ({"vnp_Command": "genqr"}, "03"),
        ({"vnp_Version": "1.0.0"}, "03"),
        ({"vnp_IpAddr": None}, "03"),
        ({"vnp_ReturnUrl": None}, "03"),
        ({"vnp_CreateDate": "2024-01-01 10:00"}, "03"),
        ({"vnp_Locale": "fr"}, "03"),
        ({"vnp_BankCode": "VCB"}, "76"),
        ({"vnp_ExpireDate": format_vnp_date(now_vn() - timedelta(minutes=1))}, "15"),
    ],
)
async def test_bad_payment_requests_end_on_vnpay_error_page(
    sandbox: Sandbox, overrides: dict[str, str | None], code: str
) -> None:
    assert error_code(await sandbox.open_payment(**overrides)) == code


async def test_wrong_signature_is_code_70(sandbox: Sandbox) -> None:
    assert error_code(await sandbox.client.get(sandbox.pay_url(secret="NOT-THE-SECRET"))) == "70"
    tampered = sandbox.pay_url().replace("vnp_Amount=3500000", "vnp_Amount=100")
    assert error_code(await sandbox.client.get(tampered)) == "70"
    unsigned = sandbox.pay_url().split("&vnp_SecureHash=")[0]
    assert error_code(await sandbox.client.get(unsigned)) == "70"


async def test_error_page_shows_vnpays_message(sandbox: Sandbox) -> None:
    r = await sandbox.client.get("/paymentv2/Payment/Error.html", params={"code": "70"})
    assert r.status_code == 200
    assert "Sai chữ ký" in r.text
    r = await sandbox.client.get("/paymentv2/Payment/Error.html", params={"code": "<b>x</b>"})
    assert "<b>x</b>" not in r.text


async def test_happy_path_through_the_forms_returns_a_signed_result_and_sends_the_ipn(
    sandbox: Sandbox,
) -> None:
    page, actions = await sandbox.open_page()
    assert "35.000 VND" in page
    assert "HS0001" not in actions["card"], "forms must be keyed by an opaque token, not the TxnRef"

    done = await pay_with_card(sandbox)
    assert done.status_code == 302
    location = done.headers["location"]
    assert location.startswith(RETURN_URL + "?")
    result = query_of(location)
    assert set(result) == RESULT_FIELDS
    assert verify_query(result, HASH_SECRET)
    # The query string is the canonical form with the hash appended last.
    assert location.split("?", 1)[1] == f"{canonical_query(result)}&vnp_SecureHash={result['vnp_SecureHash']}"
    assert result["vnp_ResponseCode"] == "00"
    assert result["vnp_TransactionStatus"] == "00"
    assert result["vnp_Amount"] == "3500000"
    assert result["vnp_TmnCode"] == TMN_CODE
    assert result["vnp_TxnRef"] == "HS0001"
    assert result["vnp_BankCode"] == "NCB"
    assert result["vnp_CardType"] == "ATM"
    assert result["vnp_TransactionNo"].isdigit()
    assert len(result["vnp_TransactionNo"]) >= 8
    assert result["vnp_BankTranNo"].startswith("VNP")
    assert len(result["vnp_PayDate"]) == 14

    [ipn] = await sandbox.wait_for_ipns(1)
    assert ipn == result
    txn = await sandbox.transaction()
    assert txn["status"] == "succeeded"
    assert txn["ipn"]["acknowledged"] is True
    assert txn["return_url"] == location


async def test_wrong_card_details_can_be_retried_then_too_many_fail_with_10(sandbox: Sandbox) -> None:
    _, actions = await sandbox.open_page()
    wrong = {"card_number": "9704198526191432198", "card_holder": "NGUYEN VAN B", "card_date": "07/15"}
    for _ in range(3):
        r = await sandbox.client.post(actions["card"], data=wrong)
        assert r.status_code == 200
        assert "Thông tin thẻ không hợp lệ" in r.text
    assert (await sandbox.transaction())["status"] == "pending"

    r = await sandbox.client.post(actions["card"], data=wrong)
    assert r.status_code == 302
    assert query_of(r.headers["location"])["vnp_ResponseCode"] == "10"


async def test_wrong_card_then_right_card_pays(sandbox: Sandbox) -> None:
    _, actions = await sandbox.open_page()
    r = await sandbox.client.post(
        actions["card"],
        data={"card_number": "9704000000000000", "card_holder": "NGUYEN VAN A", "card_date": "07/15"},
    )
    assert r.status_code == 200
    r = await sandbox.client.post(
        actions["card"],
        data={"card_number": "9704 1985 2619 1432 198", "card_holder": "nguyen van a", "card_date": "07/15"},
    )
    assert r.status_code == 302
    assert "Confirm.html" in r.headers["location"]


async def test_wrong_otp_fails_with_13(sandbox: Sandbox) -> None:
    done = await pay_with_card(sandbox, otp="000000")
    result = query_of(done.headers["location"])
    assert verify_query(result, HASH_SECRET)
    assert result["vnp_ResponseCode"] == "13"
    assert result["vnp_TransactionStatus"] == "02"
    assert result["vnp_TransactionNo"] == "0"
    assert "vnp_BankTranNo" not in result


async def test_declining_demo_card_fails_with_its_code(sandbox: Sandbox) -> None:
    _, actions = await sandbox.open_page()
    r = await sandbox.client.post(
        actions["card"],
        data={"card_number": "9704195798459170488", "card_holder": "NGUYEN VAN A", "card_date": "07/15"},
    )
    assert query_of(r.headers["location"])["vnp_ResponseCode"] == "51"


async def test_cancel_returns_24(sandbox: Sandbox) -> None:
    _, actions = await sandbox.open_page()
    r = await sandbox.client.post(actions["cancel"])
    assert r.status_code == 302
    result = query_of(r.headers["location"])
    assert verify_query(result, HASH_SECRET)
    assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"], result["vnp_TransactionNo"]) == (
        "24",
        "02",
        "0",
    )
    [ipn] = await sandbox.wait_for_ipns(1)
    assert ipn["vnp_ResponseCode"] == "24"


async def test_reload_reuses_the_pending_transaction_but_a_finished_or_changed_one_is_code_01(
    sandbox: Sandbox,
) -> None:
    first = await sandbox.open_payment()
    again = await sandbox.open_payment()
    assert again.status_code == 302
    assert "PaymentMethod" in again.headers["location"]
    assert first.headers["location"] != again.headers["location"]
    assert error_code(await sandbox.open_payment(vnp_Amount="4000000")) == "01"

    await sandbox.settle()
    assert error_code(await sandbox.open_payment()) == "01"
    # An old page session of a finished payment sends the browser on to the result.
    r = await sandbox.client.get(first.headers["location"])
    assert r.status_code == 302
    assert r.headers["location"].startswith(RETURN_URL)


async def test_unknown_session_token_is_an_error_page(sandbox: Sandbox) -> None:
    r = await sandbox.client.get("/paymentv2/Transaction/PaymentMethod.html", params={"token": "forged"})
    assert error_code(r) == "99"


async def test_page_left_open_past_its_session_times_out_with_15(sandbox: Sandbox) -> None:
    started = await sandbox.open_payment()
    store = sandbox.app.state.vnpay_simulator.store
    real_clock = store.clock
    store.clock = lambda: real_clock() + timedelta(minutes=16)
    assert error_code(await sandbox.client.get(started.headers["location"])) == "15"
