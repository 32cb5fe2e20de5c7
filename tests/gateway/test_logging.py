"""Personal data never reaches a log line; neither do VNPay's signed query strings."""

from __future__ import annotations

import json

import pytest

from gateway.logging import mask_text, mask_value
from tests.harness import World, signed_ipn

pytestmark = pytest.mark.anyio

PHONE = "0912345678"
CCCD = "001203004567"


def test_mask_text() -> None:
    masked = mask_text(f"gọi {PHONE} hoặc +84912345678, CCCD {CCCD}, CMND 123456789, thư an.nguyen@example.vn")
    for secret in (PHONE, "+84912345678", CCCD, "123456789", "an.nguyen@example.vn"):
        assert secret not in masked
    assert "678" in masked  # the last digits stay, for support staff to match
    # Digits inside ids and hashes are not personal data and stay readable.
    assert mask_text("req 5ba5bee6f4987171645160912345678aa") == "req 5ba5bee6f4987171645160912345678aa"


def test_mask_value_by_key() -> None:
    assert mask_value("payer_name", "Nguyễn Văn An") == "***"
    assert mask_value("address", "12 Tràng Tiền, Hoàn Kiếm") == "***"
    assert mask_value("payload", {"phone": PHONE, "note": f"sdt {PHONE}"}) == {
        "phone": "***",
        "note": "sdt *******678",
    }


async def test_a_full_flow_logs_no_personal_data(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    body = (await world.create_payment()).json()
    await world.http.get("/callbacks/vnpay/ipn", params=signed_ipn(body))
    bad = await world.create_payment({"payer": {"name": "X", "phone": CCCD}})  # rejected input
    assert bad.status_code == 400
    out = capsys.readouterr()
    logs = out.out + out.err
    events = [json.loads(line)["event"] for line in out.out.splitlines() if line.startswith("{")]
    assert "request" in events  # logging works at all
    for secret in (PHONE, CCCD, "Nguyễn Văn An", "an.nguyen@example.vn", "vnp_SecureHash", "vnp_Amount"):
        assert secret not in logs, secret


async def test_database_errors_do_not_log_sql_parameters(world: World) -> None:
    from sqlalchemy import text

    async with world.app.state.sessionmaker() as session:
        with pytest.raises(Exception) as caught:
            await session.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": "Nguyễn Văn An"})
    assert "no_such_table" in str(caught.value)
    assert "Nguyễn Văn An" not in str(caught.value)


async def test_a_creation_is_one_access_line_with_its_payment(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    body = (await world.create_payment()).json()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == ["request"]
    assert (lines[0]["path"], lines[0]["status"], lines[0]["payment_id"]) == ("/v1/payments", 201, body["id"])
    assert (lines[0]["provider"], lines[0]["amount"]) == ("vnpay", body["amount"])
    await world.http.get("/health")
    after = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert "payment_id" not in after[-1]


async def test_a_replayed_creation_does_not_log_a_payment_it_did_not_make(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # The replay first tried to create (and rolled back) a payment of its own: that one must not be noted.
    first = (await world.create_payment(idem="k-log")).json()
    capsys.readouterr()
    again = await world.create_payment(idem="k-log")
    assert again.headers.get("idempotent-replayed") == "true"
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert line.get("payment_id", first["id"]) == first["id"]


def test_notes_of_a_block_that_failed_are_undone(capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    from gateway.logging import access_line_closed, access_line_open, note, notes_undone_on_error

    def attempt() -> None:
        with notes_undone_on_error():
            note(structlog.get_logger(), "payment_status", payment_id="pay_x", to_status="succeeded")
            raise RuntimeError("rolled back")

    line = access_line_open()
    try:
        note(structlog.get_logger(), "kept", request_id="r1")
        with pytest.raises(RuntimeError):
            attempt()
        assert structlog.contextvars.get_contextvars() == {"request_id": "r1"}
    finally:
        structlog.contextvars.clear_contextvars()
        access_line_closed(line)


async def test_an_ipn_is_one_access_line_with_its_outcome(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    body = (await world.create_payment()).json()
    capsys.readouterr()
    params = signed_ipn(body)
    await world.http.get("/callbacks/vnpay/ipn", params=params)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == ["request"]  # the status change is on it too
    access = lines
    assert access[0]["path"] == "/callbacks/vnpay/ipn" and access[0]["status"] == 200
    assert (access[0]["payment_id"], access[0]["from_status"], access[0]["to_status"]) == (
        body["id"],
        "pending",
        "succeeded",
    )
    assert (access[0]["vnp_txn_ref"], access[0]["rsp_code"], access[0]["vnp_response_code"]) == (
        params["vnp_TxnRef"],
        "00",
        "00",
    )
    # The next request's line does not carry them.
    await world.http.get("/health")
    after = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert "rsp_code" not in after[-1]


def test_outside_a_request_what_was_done_is_a_line_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    # The workers (a query that settles a payment) have no access line to put it on.
    import structlog

    from gateway.logging import note

    note(structlog.get_logger(), "payment_status", payment_id="pay_x", to_status="expired")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [(line["event"], line["payment_id"]) for line in lines] == [("payment_status", "pay_x")]
    assert structlog.contextvars.get_contextvars() == {}
