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


NAME = "Nguyễn Văn An"


@pytest.mark.parametrize(
    ("error", "kept"),
    [
        # PostgreSQL's own texts, as asyncpg puts them in an exception: the DETAIL line quotes the values.
        (
            'null value in column "created_at" of relation "payments" violates not-null constraint\n'
            f"DETAIL:  Failing row contains (pay_x, cli_x, {NAME}, 12 Tràng Tiền, null).",
            'null value in column "created_at" of relation "payments" violates not-null constraint',
        ),
        (  # a value that spans lines, as an address may
            f"DETAIL:  Failing row contains (pay_x, {NAME},\n12 Tràng Tiền, null).\n[SQL: INSERT INTO payments]",
            "[SQL: INSERT INTO payments]",
        ),
        (
            'duplicate key value violates unique constraint "uq_x"\n'
            f"DETAIL:  Key (provider, payer_name)=(vnpay, {NAME} (An)) already exists.",
            "Key (provider, payer_name)=(***) already exists.",
        ),
        (
            f'DETAIL:  Key (payment_id)=({NAME} (An).\n12 Tràng Tiền) is not present in table "payments".',
            'is not present in table "payments".',
        ),
        (f'invalid input syntax for type integer: "{NAME}"', "invalid input syntax for type integer"),
        (
            f'invalid input syntax for type integer: "{NAME}\n12 Tràng Tiền"\n[SQL: SELECT $1::int]',
            "[SQL: SELECT $1::int]",
        ),
        (f'value "{NAME}" is out of range for type integer', "is out of range for type integer"),
        (f'date/time field value out of range: "{NAME}"', "date/time field value out of range"),
        # asyncpg's, for a value it could not encode.
        (
            f"invalid input for query argument $2: '{NAME}' ('str' object cannot be interpreted as an integer)",
            "invalid input for query argument $2",
        ),
    ],
    ids=[
        "row",
        "row-over-lines",
        "unique-key",
        "foreign-key",
        "syntax",
        "syntax-over-lines",
        "out-of-range",
        "datetime",
        "argument",
    ],
)
def test_the_values_a_database_error_quotes_are_masked(error: str, kept: str) -> None:
    masked = mask_text(error)
    assert NAME not in masked and "Tràng Tiền" not in masked
    assert kept in masked  # what the fault was stays readable


async def test_database_errors_are_logged_without_the_values_they_quote(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Real errors of the gateway's own database and driver (direct path), through its log processors.
    import structlog

    from gateway.db.direct import Sql

    db = world.app.state.db
    insert = Sql(
        "INSERT INTO clients (id, name, api_key_hash, api_key_prefix, webhook_secret, active, created_at) "
        "VALUES ($1, $2, $3, 'p', 's', $4, $5)"
    )
    now = world.clock.now()
    await db.fetchrow(insert, "cli_log_a", "a", NAME, True, now)
    attempts = [
        (insert, ("cli_log_b", NAME, "h", True, None)),  # NOT NULL: PostgreSQL quotes the whole row
        (insert, ("cli_log_c", "c", NAME, True, now)),  # unique api_key_hash: PostgreSQL quotes the key
        (insert, ("cli_log_d", "d", "h2", NAME, now)),  # a text for a boolean: asyncpg quotes the argument
    ]
    capsys.readouterr()
    failed = 0
    for sql, args in attempts:
        try:
            await db.fetchrow(sql, *args)
        except Exception:
            structlog.get_logger().exception("database_error")
            failed += 1
    assert failed >= 2  # SQLite stores the text in the boolean column
    logs = capsys.readouterr().out
    assert logs.count('"event":"database_error"') == failed
    assert "created_at" in logs and "api_key_hash" in logs  # the columns stay
    assert NAME not in logs


def test_library_records_are_masked_and_written_once(capsys: pytest.CaptureFixture[str]) -> None:
    import logging
    import logging.config

    from uvicorn.config import LOGGING_CONFIG

    from gateway.logging import configure_logging

    logging.config.dictConfig(LOGGING_CONFIG)  # as uvicorn sets itself up, before the app is made
    configure_logging("INFO")
    try:
        raise ValueError(f"null value in column\nDETAIL:  Failing row contains ({NAME}, {PHONE}).")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    logging.getLogger("asyncio").error("Task exception was never retrieved: Key (phone)=(%s) already exists.", PHONE)
    out = capsys.readouterr()
    assert out.err == ""  # not uvicorn's own handler
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [("uvicorn.error", "error"), ("asyncio", "error")]
    assert "Failing row contains (***)." in lines[0]["exception"]
    assert lines[1]["event"] == "Task exception was never retrieved: Key (phone)=(***) already exists."
    assert NAME not in out.out and PHONE not in out.out


async def test_an_unexpected_error_in_debug_mode_is_logged_once_and_masked(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In debug mode Litestar logs every exception itself; through its own handler that line was unmasked.
    import httpx

    from gateway.app import create_app
    from gateway.payments.service import PaymentService
    from tests.harness import GATEWAY

    async def failing(*_: object) -> None:
        raise RuntimeError(f"DETAIL:  Failing row contains ({NAME}, {PHONE}).")

    monkeypatch.setattr(PaymentService, "find_by_reference", failing)
    app = create_app(world.app.state.settings.model_copy(update={"debug": True}), clock=world.clock)
    capsys.readouterr()
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http:
        response = await http.get("/callbacks/vnpay/return", params={"vnp_TxnRef": "X"})
    assert response.status_code == 500
    out = capsys.readouterr()
    assert NAME not in out.out + out.err and PHONE not in out.out + out.err
    [error] = [json.loads(line) for line in out.out.splitlines() if "RuntimeError" in line]
    assert error["event"] == "unhandled_error" and "Failing row contains (***)." in error["exception"]


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
