"""`dvc-gateway`: database migrations, portal clients, staff accounts, and serving."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gateway.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from gateway.db.models import Client
    from gateway.ledger.backfill import Backfilled


@click.group()
def main() -> None:
    """dvc-gateway administration."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations to DVCGW_DATABASE_URL."""
    from gateway.db.migrate import upgrade

    upgrade(Settings().database_url, revision)


@main.group()
def clients() -> None:
    """Portal clients (machine clients with an API key)."""


async def create_client(settings: Settings, name: str, webhook_url: str | None) -> tuple[str, str, str]:
    """Raises TargetRefused for a webhook URL the API would refuse."""
    from gateway.auth import new_client
    from gateway.clock import clock
    from gateway.db.engine import create_engine, create_sessionmaker
    from gateway.webhooks.targets import Targets

    if webhook_url is not None:
        await Targets(settings).check(webhook_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            client, api_key = new_client(name, clock.now(), webhook_url)
            session.add(client)
            await session.commit()
            return client.id, api_key, client.webhook_secret
    finally:
        await engine.dispose()


def _webhook_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The URL as the API would take and store it (PUT /v1/webhook-endpoint)."""
    from pydantic import ValidationError

    from contracts.webhooks import WebhookEndpointIn

    if value is None:
        return None
    try:
        return str(WebhookEndpointIn(url=value).url)
    except ValidationError as exc:
        raise click.BadParameter("; ".join(e["msg"] for e in exc.errors())) from exc


@clients.command("create")
@click.argument("name")
@click.option("--webhook-url", default=None, callback=_webhook_url, help="Where the portal receives signed events.")
def clients_create(name: str, webhook_url: str | None) -> None:
    """Create a portal client; its API key is shown once and only its hash is stored."""
    from gateway.webhooks.targets import TargetRefused

    try:
        client_id, api_key, secret = asyncio.run(create_client(Settings(), name, webhook_url))
    except TargetRefused as refused:
        raise click.BadParameter(refused.detail, param_hint="'--webhook-url'") from None
    click.echo(f"client id:      {client_id}")
    click.echo(f"API key:        {api_key}")
    click.echo(f"webhook secret: {secret}")


async def rotate_client_key(settings: Settings, client_id: str, overlap: timedelta) -> tuple[str, datetime | None]:
    """The client's new API key, and until when its previous one is still taken (None: not at all)."""
    from gateway.auth import rotate_key
    from gateway.clock import clock

    async with _client_row(settings, client_id) as client:
        api_key = rotate_key(client, clock.now(), overlap)
        return api_key, client.previous_key_expires_at


async def revoke_client(settings: Settings, client_id: str) -> bool:
    """Revokes the client; False if it already was."""
    from gateway.auth import revoke

    async with _client_row(settings, client_id) as client:
        was_active = client.active
        revoke(client)
        return was_active


@asynccontextmanager
async def _client_row(settings: Settings, client_id: str) -> AsyncIterator[Client]:
    """The client's row, locked, committed when the block ends; a ClickException if there is none."""
    from gateway.db.engine import create_engine, create_sessionmaker
    from gateway.db.models import Client
    from gateway.errors import DomainError

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            client = await session.get(Client, client_id, with_for_update=True)
            if client is None:
                raise click.ClickException(f"No client {client_id!r}.")
            try:
                yield client
            except DomainError as exc:
                raise click.ClickException(exc.detail) from exc
            await session.commit()
    finally:
        await engine.dispose()


def _cache_note(settings: Settings) -> str:
    return f"every running gateway process refuses it within auth_cache_seconds ({settings.auth_cache_seconds:g} s)"


@clients.command("rotate-key")
@click.argument("client_id")
@click.option(
    "--overlap-seconds",
    type=click.IntRange(min=0),
    default=24 * 3600,
    show_default=True,
    help="How long the current key stays valid beside the new one (0: refused at once).",
)
def clients_rotate_key(client_id: str, overlap_seconds: int) -> None:
    """Give a portal client a new API key, shown once; the current key keeps working for the overlap."""
    settings = Settings()
    api_key, old_until = asyncio.run(rotate_client_key(settings, client_id, timedelta(seconds=overlap_seconds)))
    click.echo(f"new API key:    {api_key}")
    if old_until is None:
        click.echo(f"previous key:   refused now; {_cache_note(settings)}")
    else:
        click.echo(f"previous key:   valid until {old_until.isoformat(timespec='seconds')}, then refused")


@clients.command("revoke")
@click.argument("client_id")
def clients_revoke(client_id: str) -> None:
    """Revoke a portal client: every one of its keys is refused from then on."""
    settings = Settings()
    if asyncio.run(revoke_client(settings, client_id)):
        click.echo(f"client {client_id} revoked: {_cache_note(settings)}")
    else:
        click.echo(f"client {client_id} was already revoked")


@main.group()
def staff() -> None:
    """Staff accounts for /staff (post office staff, finance); docs/staff.md."""


def _password(password_stdin: bool) -> str:
    """The password from one line of standard input, or typed twice at a hidden prompt: never from the
    command line, where the shell history and the process list would keep it."""
    if password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input instead of a prompt."
)


@asynccontextmanager
async def _staff_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A database session committed when the block ends; a domain error or a refused password becomes a
    ClickException, and nothing is written."""
    from gateway.db.engine import create_engine, create_sessionmaker
    from gateway.errors import DomainError
    from gateway.staff.passwords import WeakPassword

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            try:
                yield session
            except DomainError as exc:
                raise click.ClickException(exc.detail) from exc
            except WeakPassword as exc:
                raise click.ClickException(str(exc)) from exc
            await session.commit()
    finally:
        await engine.dispose()


async def create_staff(settings: Settings, username: str, password: str, role: str, office: str | None) -> str:
    from gateway.clock import clock
    from gateway.staff.accounts import Role, create_account

    async with _staff_session(settings) as session:
        account = await create_account(session, username, password, Role(role), office, clock.now())
        return account.username


async def disable_staff(settings: Settings, username: str) -> bool:
    from gateway.staff.accounts import disable_account

    async with _staff_session(settings) as session:
        return await disable_account(session, username)


async def reset_staff_password(settings: Settings, username: str, password: str) -> None:
    from gateway.staff.accounts import reset_password

    async with _staff_session(settings) as session:
        await reset_password(session, username, password)


@staff.command("create")
@click.option("--username", required=True, help="3 to 64 of a-z, 0-9, '.', '_', '-' (kept in lower case).")
@click.option("--role", type=click.Choice(["postal", "finance"]), required=True)
@click.option("--office", default=None, help="The post office's code (role postal only), as the carrier names it.")
@_password_stdin
def staff_create(username: str, role: str, office: str | None, password_stdin: bool) -> None:
    """Create a staff account; only the password's Argon2id hash is stored."""
    from gateway.errors import DomainError
    from gateway.staff.accounts import Role, check_office, check_username

    try:  # before the password is asked for
        check_username(username)
        check_office(Role(role), office)
    except DomainError as exc:
        raise click.UsageError(exc.detail) from exc
    password = _password(password_stdin)
    name = asyncio.run(create_staff(Settings(), username, password, role, office))
    click.echo(f"staff account {name} created ({role}{f', office {office.strip()}' if office else ''})")


@staff.command("disable")
@click.option("--username", required=True)
def staff_disable(username: str) -> None:
    """Disable a staff account: its sessions end at once and it can no longer log in."""
    if asyncio.run(disable_staff(Settings(), username)):
        click.echo(f"staff account {username.strip().lower()} disabled; its sessions are ended")
    else:
        click.echo(f"staff account {username.strip().lower()} was already disabled")


async def enable_staff(settings: Settings, username: str) -> bool:
    from gateway.staff.accounts import enable_account

    async with _staff_session(settings) as session:
        return await enable_account(session, username)


@staff.command("enable")
@click.option("--username", required=True)
def staff_enable(username: str) -> None:
    """Let a disabled staff account log in again (with the password it had, or reset it first)."""
    if asyncio.run(enable_staff(Settings(), username)):
        click.echo(f"staff account {username.strip().lower()} enabled")
    else:
        click.echo(f"staff account {username.strip().lower()} was already enabled")


@staff.command("reset-password")
@click.option("--username", required=True)
@_password_stdin
def staff_reset_password(username: str, password_stdin: bool) -> None:
    """Give a staff account a new password: its lockout is lifted and its sessions end."""
    password = _password(password_stdin)
    asyncio.run(reset_staff_password(Settings(), username, password))
    click.echo(f"staff account {username.strip().lower()}: new password set; its sessions are ended")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the gateway with uvicorn, one process per worker (gateway/serving.py)."""
    from gateway.serving import serve as run_server

    if workers > 1 and Settings().is_sqlite:
        # SQLite has one writer for the whole file: processes would only queue on its lock, and the
        # per-process parts (rate-limit refusals, the key cache) assume one process there.
        raise click.UsageError("SQLite serves one process; use PostgreSQL (DVCGW_DATABASE_URL) for --workers > 1.")

    sys.exit(run_server("gateway.asgi:create", host, port, workers))


@main.command()
def dev() -> None:
    """What `make run` does: migrate the SQLite file, create a dev portal, run the gateway and simulators."""
    from gateway.devserver import run

    run(Settings())


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", required=True, type=click.Choice(["vnpay", "momo", "zalopay", "payos", "vnpost"]))
@click.option("--date", "business_date", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
def reconcile(file: Path, provider: str, business_date: datetime) -> None:
    """Import a provider's settlement file for a business day and match it (as POST /v1/reconciliation/runs)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from gateway.reconciliation.errors import BadSettlementFile
    from gateway.reconciliation.offline import reconcile_file

    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task(f"{provider} {business_date.date()}", total=file.stat().st_size)
        try:
            imported = asyncio.run(
                reconcile_file(
                    Settings(), file, provider, business_date.date(), lambda done: bar.update(task, completed=done)
                )
            )
        except BadSettlementFile as exc:
            raise click.ClickException(f"{file.name}: {exc.detail}; nothing was imported") from None
    run = imported.run
    click.echo(f"run {run.id}: {run.file_rows} rows" + ("" if imported.created else " (this file was imported before)"))
    for category, totals in run.summary["categories"].items():
        click.echo(f"  {category:<20} {totals['count']:>9}  {totals['amount']:>15} VND")


@main.group()
def ledger() -> None:
    """The fee ledger."""


async def backfill_ledger(settings: Settings, dry_run: bool) -> tuple[Backfilled, int]:
    """What `ledger backfill` posted, and how many violations check_ledger finds afterwards."""
    from gateway.clock import clock
    from gateway.db.engine import create_engine, create_sessionmaker
    from gateway.ledger.backfill import backfill
    from gateway.ledger.checks import check_ledger

    engine = create_engine(settings.database_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        done = await backfill(sessionmaker, clock.now(), dry_run=dry_run)
        async with sessionmaker() as session:
            return done, len(await check_ledger(session))
    finally:
        await engine.dispose()


@ledger.command("backfill")
@click.option("--dry-run", is_flag=True, help="Count what would be posted; post nothing.")
def ledger_backfill(dry_run: bool) -> None:
    """Post the entries of payments, refunds and COD that succeeded before the ledger existed."""
    done, violations = asyncio.run(backfill_ledger(Settings(), dry_run))
    verb = "would post" if dry_run else "posted"
    click.echo(f"{verb}: {done.payments} payments, {done.refunds} refunds, {done.cod} COD collections")
    for refused in done.refused:
        click.echo(f"refused (does not balance): {refused}", err=True)
    click.echo(f"check_ledger: {violations} violations")
    if done.refused or (violations and not dry_run):
        sys.exit(1)
