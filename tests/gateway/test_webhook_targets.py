"""Webhook targets under production settings: https to public addresses only, at registration and delivery.

Names resolve through the world's FakeDNS and deliveries land in a MockTransport: nothing leaves the machine.
"""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_address

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from gateway.cli import create_client, main
from gateway.db.models import Client
from gateway.settings import Settings
from gateway.webhooks.targets import TargetRefused, Targets, is_public
from tests.harness import World, signed_ipn

pytestmark = pytest.mark.anyio

PUBLIC = "14.160.0.10"  # globally routable; the MockTransport answers for it
NAME = "portal.example.vn"

# One of each kind of address a portal must not reach.
INTERNAL = [
    "127.0.0.1",  # loopback
    "::1",
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local: the cloud metadata service
    "fe80::1",
    "fc00::1",  # unique local
    "0.0.0.0",  # noqa: S104 - unspecified, refused like the rest
    "::",
    "224.0.0.1",  # multicast
    "ff02::1",
    "240.0.0.1",  # reserved
    "100.64.0.1",  # shared (carrier-grade NAT)
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    "fec0::1",  # site-local
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "environment": "production",
            "demo_enabled": False,
            "webhook_allow_http": False,
            "webhook_allowed_hosts": [],
        }
    )


def literal_url(address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}/hooks"


async def put_endpoint(world: World, url: str) -> httpx.Response:
    return await world.http.put("/v1/webhook-endpoint", json={"url": url}, headers=world.auth())


async def registered_url(world: World) -> str | None:
    return (await world.http.get("/v1/webhook-endpoint", headers=world.auth())).json()["url"]  # type: ignore[no-any-return]


async def only_event(world: World) -> dict:
    [event] = (await world.http.get("/v1/webhook-events", headers=world.auth())).json()
    return event  # type: ignore[no-any-return]


async def succeeded_payment(world: World) -> None:
    payment = (await world.create_payment()).json()
    r = await world.http.get("/callbacks/vnpay/ipn", params=signed_ipn(payment))
    assert r.json()["RspCode"] == "00"


def assert_refused(r: httpx.Response, message: str = "public internet addresses") -> None:
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/webhook-target-refused")
    [error] = problem["errors"]
    assert error["key"] == "url" and message in error["message"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public(ip_address(address))


@pytest.mark.parametrize("address", ["14.160.0.10", "2405:4800::1", "::ffff:14.160.0.10", "64:ff9b::ea0:a"])
def test_public_addresses_are(address: str) -> None:
    assert is_public(ip_address(address))


@pytest.mark.parametrize("address", INTERNAL)
async def test_an_internal_address_is_refused_at_registration(world: World, address: str) -> None:
    before = await registered_url(world)
    assert_refused(await put_endpoint(world, literal_url(address)))
    world.dns.records[NAME] = [address]
    assert_refused(await put_endpoint(world, f"https://{NAME}/hooks"))
    assert await registered_url(world) == before  # nothing changed


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("localhost", ["127.0.0.1", "::1"]),
        ("mixed.example.vn", [PUBLIC, "10.0.0.7"]),  # every address must be public, not just one
        ("gone.example.vn", None),  # does not resolve: told the same as an internal name
    ],
)
async def test_a_name_is_judged_by_every_address_it_resolves_to(
    world: World, host: str, addresses: list[str] | None
) -> None:
    if addresses is not None:
        world.dns.records[host] = addresses
    assert_refused(await put_endpoint(world, f"https://{host}:8443/hooks"))


async def test_plain_http_is_refused_and_https_to_a_public_name_accepted(world: World) -> None:
    world.dns.records[NAME] = [PUBLIC, "2405:4800::1"]
    assert_refused(await put_endpoint(world, f"http://{NAME}/hooks"), "https")
    r = await put_endpoint(world, f"https://{NAME}/hooks")
    assert r.status_code == 200 and r.json()["url"] == f"https://{NAME}/hooks"


@pytest.mark.parametrize("address", INTERNAL)
async def test_a_name_that_turns_internal_is_refused_at_delivery_and_retried(world: World, address: str) -> None:
    """DNS rebinding: public when registered, internal when delivered to."""
    world.dns.records[NAME] = [PUBLIC]
    assert (await put_endpoint(world, f"https://{NAME}/hooks")).status_code == 200
    await succeeded_payment(world)
    world.dns.records[NAME] = [address]
    assert await world.run_dispatcher() == 1
    assert world.portal.received == []
    event = await only_event(world)
    assert event["last_error"] == "target not allowed" and event["last_status_code"] is None
    assert event["status"] == "pending" and event["attempts"] == 1

    world.dns.records[NAME] = [PUBLIC]
    world.clock.advance(timedelta(seconds=5))  # the first retry of the test schedule
    assert await world.run_dispatcher() == 1
    assert (await only_event(world))["status"] == "delivered"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "169.254.169.254", "::ffff:127.0.0.1"])
async def test_an_internal_url_already_stored_is_refused_at_delivery(world: World, address: str) -> None:
    """A URL registered before these rules, or by hand: never sent to."""
    async with world.app.state.sessionmaker() as session:
        await session.execute(update(Client).values(webhook_url=literal_url(address).replace("/hooks", ":5432/")))
        await session.commit()
    await succeeded_payment(world)
    assert await world.run_dispatcher() == 1
    assert world.portal.received == []
    assert (await only_event(world))["last_error"] == "target not allowed"


async def test_a_delivery_goes_to_the_address_that_was_checked(world: World) -> None:
    """The name is resolved once per delivery; the connection is to that answer, under the name."""
    world.dns.records[NAME] = [PUBLIC]
    assert (await put_endpoint(world, f"https://{NAME}:8443/hooks?portal=1")).status_code == 200
    await succeeded_payment(world)
    world.dns.lookups.clear()
    assert await world.run_dispatcher() == 1
    [request] = world.portal.received
    assert world.dns.lookups == [NAME]
    assert str(request.url) == f"https://{PUBLIC}:8443/hooks?portal=1"
    assert request.headers["host"] == f"{NAME}:8443"
    assert request.extensions["sni_hostname"] == NAME  # TLS is checked against the name's certificate
    assert (await only_event(world))["status"] == "delivered"


async def test_a_name_that_does_not_resolve_at_delivery_is_a_connection_failure(world: World) -> None:
    world.dns.records[NAME] = [PUBLIC]
    assert (await put_endpoint(world, f"https://{NAME}/hooks")).status_code == 200
    await succeeded_payment(world)
    del world.dns.records[NAME]
    assert await world.run_dispatcher() == 1
    assert (await only_event(world))["last_error"] == "connection failed"


async def test_a_listed_network_may_be_reached(world: World, settings: Settings) -> None:
    targets = Targets(
        settings.model_copy(update={"webhook_allowed_hosts": ["10.20.0.0/16", "hooks.internal"]}), world.dns.resolve
    )
    world.dns.records[NAME] = ["10.20.3.4"]
    target = await targets.check(f"https://{NAME}/hooks")
    assert target.url.host == "10.20.3.4"
    assert (await targets.check("https://hooks.internal/x")).url.host == "hooks.internal"  # by name, any address
    with pytest.raises(TargetRefused):
        await targets.check("https://10.21.0.1/hooks")
    with pytest.raises(TargetRefused):
        await targets.check("http://10.20.3.4/hooks")  # still https only


async def test_development_allows_its_own_origin_only(world: World, settings: Settings) -> None:
    """`make run`: the demo portal's receiver is the gateway itself, http on 127.0.0.1."""
    dev = settings.model_copy(update={"environment": "development", "public_base_url": "http://127.0.0.1:8000"})
    targets = Targets(dev, world.dns.resolve)
    assert (await targets.check("http://127.0.0.1:8000/demo/webhooks")).url.port == 8000
    for url in ("http://127.0.0.1:5432/", "https://127.0.0.1:8000/demo/webhooks", "http://14.160.0.10/hooks"):
        with pytest.raises(TargetRefused):
            await targets.check(url)


async def test_the_cli_refuses_an_internal_webhook_url(world: World, settings: Settings) -> None:
    with pytest.raises(TargetRefused):
        await create_client(settings, "Cổng", "https://169.254.169.254/latest/meta-data/")
    with pytest.raises(TargetRefused):
        await create_client(settings, "Cổng", "http://portal.example.vn/hooks")
    async with world.app.state.sessionmaker() as session:
        assert list(await session.scalars(select(Client.name).where(Client.name == "Cổng"))) == []


def test_the_cli_reports_the_refusal_on_its_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCGW_ENVIRONMENT", "production")
    result = CliRunner().invoke(main, ["clients", "create", "Cổng", "--webhook-url", "http://127.0.0.1:5432/"])
    assert result.exit_code == 2
    assert "--webhook-url" in result.output and "https" in result.output
