"""Rules of the provider-neutral core: what a provider declares it can do, and settings a production
gateway refuses to start with."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from adapters.vnpay.settings import SIMULATOR_HASH_SECRET, VNPaySettings
from adapters.vnpost.settings import VNPostSettings
from contracts.providers import Capability
from gateway.app import create_app
from gateway.cli import main
from gateway.settings import Settings, UnsafeSettings, check_production_safety
from tests.gateway.test_refunds import paid, refund
from tests.harness import World

pytestmark = pytest.mark.anyio


async def test_a_provider_that_refunds_only_whole_payments_refuses_a_part(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = await paid(world)
    provider = world.app.state.providers.get("vnpay")
    monkeypatch.setattr(provider, "capabilities", frozenset({Capability.REFUND}))
    part = await refund(world, payment["id"], amount=5000)
    assert part.status_code == 422 and "whole payment" in part.json()["detail"]
    assert (await refund(world, payment["id"])).status_code == 201


async def test_a_provider_that_cannot_refund_refuses_every_refund(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = await paid(world)
    monkeypatch.setattr(world.app.state.providers.get("vnpay"), "capabilities", frozenset())
    r = await refund(world, payment["id"])
    assert r.status_code == 422
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 0


# A key of VNPost's own, not the simulator's (only compared here: the gateway is never built with it).
REAL_PUSH_KEY = (
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0real\n-----END PUBLIC KEY-----\n"
)


def _production(**changes: object) -> Settings:
    vnpay = VNPaySettings(hash_secret=SecretStr("a-real-secret-from-the-vnpay-merchant-portal"))
    vnpost = VNPostSettings(password=SecretStr("a-real-myvnpost-password"), push_public_key=REAL_PUSH_KEY)
    values: dict[str, object] = {
        "environment": "production",
        "demo_enabled": False,
        "providers": {"vnpay": vnpay},
        "carriers": {"vnpost": vnpost},
    }
    return Settings(**(values | changes))  # type: ignore[arg-type]


def test_production_settings_with_real_secrets_and_no_demo_start() -> None:
    check_production_safety(_production())


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"demo_enabled": True}, "DVCGW_DEMO_ENABLED"),
        ({"providers": {"vnpay": VNPaySettings(hash_secret=SecretStr(SIMULATOR_HASH_SECRET))}}, "DVCGW_VNPAY_"),
        ({"carriers": {"vnpost": VNPostSettings(push_public_key=REAL_PUSH_KEY)}}, "DVCGW_VNPOST_"),
        ({"carriers": {"vnpost": VNPostSettings(password=SecretStr("a-real-myvnpost-password"))}}, "DVCGW_VNPOST_"),
    ],
    ids=["demo", "simulator-secret", "carrier-simulator-password", "carrier-simulator-push-key"],
)
def test_outside_development_the_gateway_refuses_unsafe_settings(changes: dict[str, object], named: str) -> None:
    with pytest.raises(UnsafeSettings, match=named):
        create_app(_production(**changes))


def test_development_allows_the_simulators_and_the_demo() -> None:
    check_production_safety(Settings(environment="development", demo_enabled=True))


def test_several_workers_on_sqlite_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCGW_DATABASE_URL", "sqlite+aiosqlite:///var/never-created.db")
    result = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert result.exit_code == 2 and "PostgreSQL" in result.output


async def test_a_payment_over_the_providers_cap_is_refused_and_stores_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import func, select

    from gateway.db.models import Payment

    monkeypatch.setattr(world.app.state.providers.get("vnpay"), "max_amount", 30_000)
    r = await world.create_payment()  # 35,000 VND
    assert r.status_code == 422 and "30000" in r.json()["detail"]
    async with world.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
