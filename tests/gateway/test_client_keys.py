"""Rotating a portal's API key with an overlap, and revoking a portal, from the command line."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import click
import pytest
from click.testing import CliRunner

from gateway.auth import Caller, CallerCache, authenticate
from gateway.cli import main, revoke_client, rotate_client_key
from gateway.db.engine import create_engine, create_read_sessionmaker
from gateway.errors import Unauthorized
from tests.harness import World

pytestmark = pytest.mark.anyio


class Ticker:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def status(world: World, key: str) -> int:
    return (await world.http.get("/v1/payments", headers=world.auth(key))).status_code


async def test_the_old_key_works_during_the_overlap_and_is_refused_after(world: World) -> None:
    tick = Ticker()
    world.app.state.callers = CallerCache(30, now=tick)
    client, old = await world.add_client("Cổng đổi khoá")
    assert await status(world, old) == 200

    new, until = await rotate_client_key(world.app.state.settings, client.id, timedelta(hours=24))
    assert until is not None and timedelta(hours=23) < until - world.clock.now() <= timedelta(hours=24)
    assert await status(world, new) == 200
    tick.t += 30  # the cache has forgotten both: the database answers
    assert await status(world, old) == 200 and await status(world, new) == 200

    world.clock.advance(timedelta(hours=24))
    tick.t += 30
    r = await world.http.get("/v1/payments", headers=world.auth(old))
    assert r.status_code == 401 and r.json()["status"] == 401
    assert await status(world, new) == 200


async def test_a_previous_key_is_remembered_no_longer_than_its_overlap(world: World) -> None:
    tick = Ticker()
    world.app.state.callers = CallerCache(30, now=tick)
    client, old = await world.add_client("Cổng đổi khoá")
    await rotate_client_key(world.app.state.settings, client.id, timedelta(seconds=10))
    assert await status(world, old) == 200  # remembered for 10 s, not the cache's 30
    world.clock.advance(timedelta(seconds=10))
    tick.t += 10
    assert await status(world, old) == 401


async def test_without_an_overlap_the_old_key_is_refused_at_once(world: World) -> None:
    world.app.state.callers = CallerCache(0)
    client, old = await world.add_client("Cổng đổi khoá")
    new, until = await rotate_client_key(world.app.state.settings, client.id, timedelta(0))
    assert until is None
    assert await status(world, old) == 401 and await status(world, new) == 200


async def test_rotating_again_ends_the_earlier_overlap(world: World) -> None:
    world.app.state.callers = CallerCache(0)
    client, first = await world.add_client("Cổng đổi khoá")
    second, _ = await rotate_client_key(world.app.state.settings, client.id, timedelta(hours=1))
    third, _ = await rotate_client_key(world.app.state.settings, client.id, timedelta(hours=1))
    assert [await status(world, k) for k in (first, second, third)] == [401, 200, 200]


async def test_a_revoked_client_is_refused_with_every_key_and_cannot_be_rotated(world: World) -> None:
    world.app.state.callers = CallerCache(0)
    client, old = await world.add_client("Cổng bị thu hồi")
    new, _ = await rotate_client_key(world.app.state.settings, client.id, timedelta(hours=1))
    assert await revoke_client(world.app.state.settings, client.id) is True
    assert await status(world, old) == 401 and await status(world, new) == 401
    assert await revoke_client(world.app.state.settings, client.id) is False
    with pytest.raises(click.ClickException, match="revoked"):
        await rotate_client_key(world.app.state.settings, client.id, timedelta(0))
    assert await status(world, world.api_key) == 200  # another portal is untouched


async def test_a_revoked_client_is_refused_once_the_cache_forgets_it(world: World) -> None:
    tick = Ticker()
    world.app.state.callers = CallerCache(30, now=tick)
    client, key = await world.add_client("Cổng bị thu hồi")
    assert await status(world, key) == 200
    await revoke_client(world.app.state.settings, client.id)
    assert await status(world, key) == 200  # remembered: the documented delay
    tick.t += 30
    assert await status(world, key) == 401


# --- The commands themselves (their own event loop each, as from a shell) -------------------------------------


def _caller(url: str, key: str) -> Caller | None:
    async def ask() -> Caller | None:
        engine = create_engine(url)
        try:
            return await authenticate(create_read_sessionmaker(engine), key)
        except Unauthorized:
            return None
        finally:
            await engine.dispose()

    return asyncio.run(ask())


def _field(output: str, label: str) -> str:
    match = re.search(rf"^{label}:\s+(\S+)", output, re.MULTILINE)
    assert match, output
    return match.group(1)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DVCGW_DATABASE_URL", database_url)
    monkeypatch.setenv("DVCGW_AUTH_CACHE_SECONDS", "30")
    return CliRunner()


def test_rotate_key_and_revoke_from_the_command_line(cli: CliRunner, database_url: str) -> None:
    created = cli.invoke(main, ["clients", "create", "Cổng DVC tỉnh Y"])
    assert created.exit_code == 0, created.output
    client_id, old = _field(created.output, "client id"), _field(created.output, "API key")

    rotated = cli.invoke(main, ["clients", "rotate-key", client_id, "--overlap-seconds", "3600"])
    assert rotated.exit_code == 0, rotated.output
    new = _field(rotated.output, "new API key")
    assert new.startswith("dvcgw_") and new != old and "valid until" in rotated.output
    assert _caller(database_url, old) == _caller(database_url, new) == Caller(client_id, "Cổng DVC tỉnh Y")

    now = cli.invoke(main, ["clients", "rotate-key", client_id, "--overlap-seconds", "0"])
    assert now.exit_code == 0 and "refused now" in now.output and "30 s" in now.output
    newest = _field(now.output, "new API key")
    assert _caller(database_url, new) is None and _caller(database_url, newest) is not None

    revoked = cli.invoke(main, ["clients", "revoke", client_id])
    assert revoked.exit_code == 0 and "revoked" in revoked.output and "30 s" in revoked.output
    assert _caller(database_url, newest) is None
    again = cli.invoke(main, ["clients", "revoke", client_id])
    assert again.exit_code == 0 and "already revoked" in again.output
    refused = cli.invoke(main, ["clients", "rotate-key", client_id])
    assert refused.exit_code == 1 and "revoked" in refused.output


@pytest.mark.parametrize("command", ["revoke", "rotate-key"])
def test_an_unknown_client_is_an_error(cli: CliRunner, command: str) -> None:
    r = cli.invoke(main, ["clients", command, "cli_does_not_exist"])
    assert r.exit_code == 1 and "No client 'cli_does_not_exist'" in r.output


def test_a_negative_overlap_is_a_usage_error(cli: CliRunner) -> None:
    r = cli.invoke(main, ["clients", "rotate-key", "cli_x", "--overlap-seconds", "-1"])
    assert r.exit_code == 2


def test_a_webhook_url_the_api_would_refuse_is_refused_by_create(cli: CliRunner) -> None:
    for url in ("not a url", "https://portal.example.vn/" + "a" * 2000):
        r = cli.invoke(main, ["clients", "create", "Cổng", "--webhook-url", url])
        assert r.exit_code == 2 and "webhook-url" in r.output
