"""Personal data never reaches a log line; neither do VNPay's signed query strings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

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


ADDRESS = "12 Tràng Tiền"


def _text(raise_it: Callable[[], None]) -> str:
    from gateway.logging import exception_text

    try:
        raise_it()
    except BaseException as exc:
        return exception_text(exc)
    raise AssertionError("nothing was raised")


def _pg(fields: dict[str, str]) -> Exception:
    import asyncpg

    # As asyncpg makes them from the fields of the server's ErrorResponse.
    return asyncpg.PostgresError.new(fields)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        (
            {
                "C": "23502",
                "M": 'null value in column "created_at" of relation "payments" violates not-null constraint',
                "D": f"Failing row contains (pay_x, {NAME}, {ADDRESS}, null).",
                "t": "payments",
                "c": "created_at",
            },
            "[SQLSTATE 23502, table payments, column created_at]",
        ),
        (  # a value holding a blank line and parentheses
            {
                "C": "23514",
                "M": "new row violates check constraint",
                "D": f"Failing row contains ({NAME} (An).\n\n{ADDRESS}).",
                "t": "payments",
                "n": "ck_amount",
            },
            "[SQLSTATE 23514, table payments, constraint ck_amount]",
        ),
        (
            {
                "C": "23505",
                "M": 'duplicate key value violates unique constraint "uq_payer"',
                "D": f"Key (lower(payer_email), payer_name)=(an@example.vn, {NAME}) already exists.",
                "t": "payments",
                "n": "uq_payer",
            },
            "[SQLSTATE 23505, table payments, constraint uq_payer]",
        ),
        ({"C": "22P02", "M": f'invalid input syntax for type integer: "{NAME}"'}, "[SQLSTATE 22P02]"),
        ({"C": "22007", "M": f'invalid input syntax for type timestamp: "{ADDRESS}"'}, "[SQLSTATE 22007]"),
        ({"C": "P0001", "M": f"người nộp {NAME} ở {ADDRESS}"}, "[SQLSTATE P0001]"),  # a function's RAISE
        ({"C": "42601", "M": f'syntax error in tsquery: "{NAME} &"'}, "[SQLSTATE 42601]"),  # class 42 quotes too
        (  # a message that names only the database's objects stays whole
            {"C": "42P01", "M": 'relation "no_such_table" does not exist'},
            'relation "no_such_table" does not exist [SQLSTATE 42P01]',
        ),
    ],
    ids=["not-null", "check-over-lines", "expression-key", "syntax", "datetime", "raise", "tsquery", "undefined-table"],
)
def test_postgresql_errors_are_logged_by_kind_and_objects_without_the_values_they_quote(
    fields: dict[str, str], kept: str
) -> None:
    from sqlalchemy.exc import IntegrityError

    error = _pg(fields)

    def wrapped() -> None:  # as SQLAlchemy's asyncpg dialect wraps it
        try:
            raise error
        except Exception as exc:
            raise RuntimeError(f"{type(exc)}: {exc}") from exc

    def duplicate() -> None:  # as SQLAlchemy wraps a unique violation, its text repeated in its own
        try:
            raise error
        except Exception as exc:
            raise IntegrityError("INSERT INTO payments ...", None, exc) from exc

    def raise_it() -> None:
        raise error

    for text in (_text(raise_it), _text(wrapped), _text(duplicate)):
        assert NAME not in text and ADDRESS not in text and "an@example.vn" not in text
        assert kept in text
        assert type(error).__name__ in text


def test_an_argument_asyncpg_could_not_encode_is_logged_without_it() -> None:
    import asyncpg

    def raise_it() -> None:
        try:
            raise ValueError(f"invalid UUID {NAME!r}: length must be between 32..36 characters")
        except ValueError as exc:  # asyncpg's codec refused it, and asyncpg says which argument
            raise asyncpg.DataError(f"invalid input for query argument $2: {NAME!r} ({exc})") from exc

    text = _text(raise_it)
    assert NAME not in text
    assert "invalid input for query argument $2 [SQLSTATE 22000]" in text
    assert "ValueError" in text  # the codec's error, by its type


def test_grouped_errors_are_each_rewritten_and_the_others_kept() -> None:
    not_null = {"C": "23502", "M": "null value", "D": f"Failing row contains ({NAME}).", "t": "payments"}

    def raise_it() -> None:
        raise ExceptionGroup("two jobs failed", [_pg(not_null), LookupError("job resolver: no such payment")])

    text = _text(raise_it)
    assert NAME not in text
    assert "[SQLSTATE 23502, table payments]" in text and "job resolver: no such payment" in text


async def test_database_errors_are_logged_without_the_values_they_quote(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Real errors of the gateway's own database and drivers, through its log processors.
    import structlog
    from sqlalchemy import text

    engine = world.app.state.engine
    insert = text(
        "INSERT INTO clients (id, name, api_key_hash, api_key_prefix, webhook_secret, active, created_at) "
        "VALUES (:id, :name, :hash, 'p', 's', :active, :at)"
    )
    now = world.clock.now()
    async with engine.begin() as conn:
        await conn.execute(insert, {"id": "cli_log_a", "name": "a", "hash": NAME, "active": True, "at": now})
    attempts = [
        {"id": "cli_log_b", "name": NAME, "hash": "h", "active": True, "at": None},  # NOT NULL: the whole row
        {"id": "cli_log_c", "name": "c", "hash": NAME, "active": True, "at": now},  # unique: the key quoted
        {"id": "cli_log_d", "name": "d", "hash": "h2", "active": NAME, "at": now},  # asyncpg quotes the argument
    ]
    capsys.readouterr()
    failed = 0
    for args in attempts:
        try:
            async with engine.begin() as conn:
                await conn.execute(insert, args)
        except Exception:
            structlog.get_logger().exception("database_error")
            failed += 1
    async with world.app.state.sessionmaker() as session:  # the ORM's path: SQLAlchemy wraps the error
        try:
            await session.execute(
                text(
                    "INSERT INTO clients (id, name, api_key_hash, api_key_prefix, webhook_secret, active) "
                    "VALUES ('cli_log_e', :name, 'h3', 'p', 's', true)"
                ),
                {"name": NAME},
            )
        except Exception:
            structlog.get_logger().exception("database_error")
            failed += 1
    assert failed >= 3  # SQLite stores the text in the boolean column
    logs = capsys.readouterr().out
    assert logs.count('"event":"database_error"') == failed
    assert "created_at" in logs and "api_key_hash" in logs  # the columns stay
    assert NAME not in logs


def test_a_postgresql_error_is_left_out_wherever_its_text_is_repeated() -> None:
    error = _pg(
        {
            "C": "23505",
            "M": "duplicate key value violates unique constraint",
            "D": f"Key (payer_name)=({NAME}) already exists.",
            "H": f"Người nộp {NAME} đã có hồ sơ.",
            "n": "uq_payer",
        }
    )

    def without_from() -> None:  # raised while handling it: the context, not the cause
        try:
            raise error
        except Exception as exc:
            raise RuntimeError(f"insert failed: {exc}")  # noqa: B904 - the case under test

    def with_note() -> None:
        try:
            raise error
        except Exception as exc:
            wrapper = LookupError("the payer could not be saved")
            wrapper.add_note(f"while saving: {exc.detail}; {exc.hint}")  # type: ignore[attr-defined]
            raise wrapper from None

    def twice_in_a_group() -> None:
        raise ExceptionGroup("two writers", [error, error])

    class Wrapped(Exception):  # a wrapper that keeps the driver's error as SQLAlchemy does, in `orig`
        orig = error

    def in_orig() -> None:
        raise Wrapped(f"statement failed: {error}") from None

    for text in (_text(without_from), _text(with_note), _text(twice_in_a_group), _text(in_orig)):
        assert NAME not in text
    assert _text(twice_in_a_group).count("[SQLSTATE 23505, constraint uq_payer]") == 2


def test_an_error_among_a_line_s_values_is_written_without_what_it_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    from gateway.logging import configure_logging

    configure_logging("INFO")
    error = _pg({"C": "23502", "M": "null value", "D": f"Failing row contains (1, {NAME}).", "t": "payments"})
    try:
        raise error
    except Exception as exc:
        structlog.get_logger().exception("failed", error=exc, errors=[str(exc)], ctx={"error": str(exc)})
    structlog.get_logger().error("failed again", error=error)  # no exc_info: the value itself says it
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == ["failed", "failed again"]
    assert lines[1]["error"] == "(message left out: it may quote a value) [SQLSTATE 23502, table payments]"
    assert NAME not in out


def test_an_error_that_cannot_be_read_does_not_fail_the_log_call(capsys: pytest.CaptureFixture[str]) -> None:
    import asyncpg
    import structlog

    from gateway.logging import configure_logging

    configure_logging("INFO")
    try:
        raise asyncpg.UniqueViolationError()  # no message: its str() raises
    except Exception:
        structlog.get_logger().exception("boom")
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert line["event"] == "boom" and "UniqueViolationError" in line["exception"]


def test_too_many_exceptions_to_look_at_are_written_by_their_kinds() -> None:
    def raise_it() -> None:
        try:
            raise ValueError(f"invalid UUID {NAME!r}")
        except ValueError as exc:
            refused = _pg({"C": "22000", "M": f"invalid input for query argument $1: {NAME!r}"})
            refused.__cause__ = exc
        raise ExceptionGroup("many", [refused, *(LookupError(str(i)) for i in range(300))])

    text = _text(raise_it)
    assert NAME not in text and "(traceback left out" in text

    # Few exceptions, written many times: one error in 15 groups of 15 (traceback's own widths).
    error = _pg({"C": "23502", "M": "null value", "D": f"Failing row contains ({NAME})."})

    def repeated() -> None:
        raise ExceptionGroup("outer", [ExceptionGroup(f"inner {i}", [error] * 15) for i in range(15)])

    text = _text(repeated)
    assert NAME not in text and "(traceback left out" in text


def test_an_exception_that_cannot_be_written_is_written_by_its_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    import traceback

    def broken(*_: object, **__: object) -> None:
        raise RecursionError("too deep")

    monkeypatch.setattr(traceback.TracebackException, "from_exception", broken)

    def raise_it() -> None:
        try:
            raise _pg({"C": "23502", "M": "null value", "D": f"Failing row contains ({NAME})."})
        except Exception as exc:
            raise RuntimeError(str(exc)) from exc

    text = _text(raise_it)
    assert NAME not in text
    assert text.startswith("RuntimeError <- NotNullViolationError (traceback left out")


@pytest.fixture
def uvicorn_logging(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """uvicorn's logging set up as uvicorn sets it up, before the app is made (its handler writing into the
    test's capture); undone afterwards."""
    import logging
    import logging.config

    from uvicorn.config import LOGGING_CONFIG

    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    before = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in names}
    logging.config.dictConfig(LOGGING_CONFIG)
    yield
    for name, (handlers, propagate) in before.items():
        logging.getLogger(name).handlers, logging.getLogger(name).propagate = handlers, propagate


NOT_NULL = {
    "C": "23502",
    "M": 'null value in column "created_at" of relation "payments" violates not-null constraint',
    "D": f"Failing row contains (pay_x, {NAME}, {PHONE}).",
    "t": "payments",
    "c": "created_at",
}


@pytest.mark.usefixtures("uvicorn_logging")
def test_library_records_are_masked_and_written_once(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from gateway.logging import configure_logging

    configure_logging("INFO")
    try:
        raise _pg(NOT_NULL)
    except Exception:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    logging.getLogger("asyncio").error("Task exception was never retrieved (payer phone %s)", PHONE)
    out = capsys.readouterr()
    assert out.err == ""  # not through uvicorn's own handler
    assert logging.getLogger("uvicorn").handlers == [] and logging.getLogger("uvicorn.error").handlers == []
    lines = [json.loads(line) for line in out.out.splitlines() if '"logger":"' in line]
    assert [(line["logger"], line["level"]) for line in lines] == [("uvicorn.error", "error"), ("asyncio", "error")]
    assert "[SQLSTATE 23502, table payments, column created_at]" in lines[0]["exception"]
    assert lines[1]["event"] == "Task exception was never retrieved (payer phone *******678)"
    assert NAME not in out.out and PHONE not in out.out


def test_asyncio_writes_a_task_s_error_into_its_message_and_it_is_left_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio
    import logging

    from gateway.logging import configure_logging

    configure_logging("INFO")
    error = _pg({"C": "22000", "M": f"invalid input for query argument $1: {NAME!r} (invalid UUID {NAME!r})"})
    # Both quotes in the text: repr() escapes one of them, so the repr differs from the text.
    quoted = _pg({"C": "22P02", "M": f'invalid input syntax for type integer: "{NAME} O\'Neil"'})
    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()
        future.set_exception(error)
        future.exception()  # retrieved here, so that it is not reported again when collected
        loop.default_exception_handler(
            {"message": "Task exception was never retrieved", "exception": error, "future": future}
        )
        logging.getLogger("gateway.jobs").error("job failed: %r", error)  # an argument, not exc_info
        logging.getLogger("gateway.jobs").error("job failed: %r", quoted)
    finally:
        loop.close()
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if '"logger":"' in line]
    assert [line["logger"] for line in lines] == ["asyncio", "gateway.jobs", "gateway.jobs"]
    assert "exception=DataError(" in lines[0]["event"]  # the repr is there, its text replaced
    assert NAME not in out


def test_a_library_record_carries_the_request_id_and_a_broken_one_no_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    import structlog

    from gateway.logging import configure_logging

    configure_logging("INFO")
    structlog.contextvars.bind_contextvars(request_id="r-lib")
    try:
        logging.getLogger("sqlalchemy.pool").warning("connection lost")
    finally:
        structlog.contextvars.clear_contextvars()
    # A record that cannot be formatted, given to the handler itself (pytest's own handler would raise).
    [handler] = [h for h in logging.getLogger().handlers if type(h).__name__ == "_MaskedRecords"]
    handler.handle(logging.makeLogRecord({"name": "gateway.jobs", "msg": "amount %d", "args": (NAME,)}))
    out = capsys.readouterr()
    [line] = [json.loads(line) for line in out.out.splitlines() if '"logger":"' in line]
    assert (line["event"], line["request_id"]) == ("connection lost", "r-lib")
    assert "could not be written" in out.err and NAME not in out.err + out.out


async def test_an_unexpected_error_in_debug_mode_is_logged_once_and_masked(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In debug mode Litestar logs every exception itself; through its own handler that line was unmasked.
    import httpx

    from gateway.app import create_app
    from gateway.payments.service import PaymentService
    from tests.harness import GATEWAY, signed_ipn

    def failing(*_: object) -> None:
        raise _pg(NOT_NULL)

    signed_return = signed_ipn((await world.create_payment()).json())
    monkeypatch.setattr(PaymentService, "citizen_returned", failing)
    app = create_app(world.app.state.settings.model_copy(update={"debug": True}), clock=world.clock)
    capsys.readouterr()
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http:
        response = await http.get("/callbacks/vnpay/return", params=signed_return)
    assert response.status_code == 500
    out = capsys.readouterr()
    assert NAME not in out.out + out.err and PHONE not in out.out + out.err
    [error] = [json.loads(line) for line in out.out.splitlines() if "NotNullViolationError" in line]
    assert error["event"] == "unhandled_error" and "[SQLSTATE 23502, table payments" in error["exception"]


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
    assert (access[0]["provider"], access[0]["reference"], access[0]["verdict"], access[0]["ack"]) == (
        "vnpay",
        params["vnp_TxnRef"],
        "recorded",
        "00",
    )
    # The next request's line does not carry them.
    await world.http.get("/health")
    after = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert "rsp_code" not in after[-1]


def test_outside_a_request_what_was_done_is_a_line_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    # The workers (a query that settles a payment) have no access line to put it on.
    import structlog

    from gateway.logging import configure_logging, note

    configure_logging("INFO")
    note(structlog.get_logger(), "payment_status", payment_id="pay_x", to_status="expired")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [(line["event"], line["payment_id"]) for line in lines] == [("payment_status", "pay_x")]
    assert structlog.contextvars.get_contextvars() == {}
