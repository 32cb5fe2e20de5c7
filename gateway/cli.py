"""`dvc-gateway`: database migrations, portal clients, and serving."""

from __future__ import annotations

import asyncio
import sys

import click

from gateway.settings import Settings


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


@clients.command("create")
@click.argument("name")
@click.option("--webhook-url", default=None, help="Where the portal receives signed events.")
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the gateway with uvicorn, one process per worker (gateway/serving.py)."""
    from gateway.serving import serve as run_server

    sys.exit(run_server("gateway.asgi:create", host, port, workers))


@main.command()
def dev() -> None:
    """What `make run` does: migrate the SQLite file, create a dev portal, run the gateway and simulators."""
    from gateway.devserver import run

    run(Settings())
