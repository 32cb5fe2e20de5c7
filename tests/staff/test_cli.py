"""`dvc-gateway staff ...`: accounts made, disabled, enabled and given new passwords from the command line."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli import main
from gateway.db.engine import create_engine, create_sessionmaker
from gateway.db.models import StaffAccount
from gateway.staff.passwords import verify_password
from tests.conftest import empty_tables

PASSWORD = "một mật khẩu dài"


@pytest.fixture
def clean_url(database_url: str) -> str:
    asyncio.run(empty_tables(database_url))
    return database_url


@pytest.fixture
def cli(clean_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DVCGW_DATABASE_URL", clean_url)
    return CliRunner()


def _account(url: str, username: str) -> StaffAccount | None:
    async def read() -> StaffAccount | None:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session:
                found: StaffAccount | None = await session.scalar(
                    select(StaffAccount).where(StaffAccount.username == username)
                )
                return found
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_create_from_stdin_or_a_hidden_prompt(cli: CliRunner, clean_url: str) -> None:
    args = ["staff", "create", "--role", "postal", "--office", "100000", "--username", "BT.An"]
    made = cli.invoke(main, [*args, "--password-stdin"], input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    assert PASSWORD not in made.output
    account = _account(clean_url, "bt.an")
    assert account is not None and (account.role, account.office_code, account.active) == ("postal", "100000", True)
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    assert asyncio.run(verify_password(account.password_hash, PASSWORD))

    prompted = cli.invoke(
        main, ["staff", "create", "--role", "finance", "--username", "ketoan1"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    account = _account(clean_url, "ketoan1")
    assert account is not None and account.office_code is None

    again = cli.invoke(main, [*args, "--password-stdin"], input=PASSWORD + "\n")
    assert again.exit_code != 0 and "exists already" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "postal", "--username", "bt.an"], "post office"),
        (["--role", "finance", "--office", "100000", "--username", "kt"], "username"),
        (["--role", "finance", "--office", "100000", "--username", "ketoan"], "no post office"),
        (["--role", "postal", "--office", "10 00", "--username", "bt.an"], "post office"),
        (["--role", "admin", "--username", "bt.an"], "admin"),
    ],
)
def test_bad_accounts_are_refused_before_the_password_is_asked(
    cli: CliRunner, clean_url: str, args: list[str], message: str
) -> None:
    result = cli.invoke(main, ["staff", "create", *args])
    assert result.exit_code == 2 and message in result.output
    assert "Password" not in result.output


@pytest.mark.parametrize("password", ["short", "bt.an"])
def test_weak_passwords_are_refused(cli: CliRunner, clean_url: str, password: str) -> None:
    args = ["staff", "create", "--role", "postal", "--office", "100000", "--username", "bt.an", "--password-stdin"]
    result = cli.invoke(main, args, input=password + "\n")
    assert result.exit_code == 1 and "password" in result.output.lower()
    assert _account(clean_url, "bt.an") is None


def test_disable_enable_and_reset_password(cli: CliRunner, clean_url: str) -> None:
    create = ["staff", "create", "--role", "postal", "--office", "100000", "--username", "bt.an", "--password-stdin"]
    assert cli.invoke(main, create, input=PASSWORD + "\n").exit_code == 0

    disabled = cli.invoke(main, ["staff", "disable", "--username", "bt.an"])
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    assert cli.invoke(main, ["staff", "disable", "--username", "bt.an"]).output.endswith("already disabled\n")
    account = _account(clean_url, "bt.an")
    assert account is not None and not account.active

    assert "enabled" in cli.invoke(main, ["staff", "enable", "--username", "bt.an"]).output
    reset = cli.invoke(
        main, ["staff", "reset-password", "--username", "bt.an", "--password-stdin"], input="mật khẩu mới đủ dài\n"
    )
    assert reset.exit_code == 0, reset.output
    account = _account(clean_url, "bt.an")
    assert account is not None and account.active
    assert asyncio.run(verify_password(account.password_hash, "mật khẩu mới đủ dài"))
    assert not asyncio.run(verify_password(account.password_hash, PASSWORD))

    missing = cli.invoke(main, ["staff", "disable", "--username", "nobody"])
    assert missing.exit_code == 1 and "No staff account" in missing.output
