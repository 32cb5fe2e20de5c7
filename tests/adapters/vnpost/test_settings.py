"""DVCGW_VNPOST_* settings: the simulator's account and key by default, each overridable, and a way for the
gateway to tell it is still on the simulator's published secrets."""

from __future__ import annotations

import pytest

from adapters.carriers import CARRIERS
from adapters.vnpost.provider import VNPostProvider
from adapters.vnpost.settings import SIMULATOR_PUSH_PUBLIC_KEY, VNPostSettings
from tests.adapters.vnpost.conftest import KeyPair


def test_the_defaults_are_the_simulators(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("USERNAME", "PASSWORD", "CUSTOMER_CODE", "API_URL", "PUSH_PUBLIC_KEY"):
        monkeypatch.delenv(f"DVCGW_VNPOST_{name}", raising=False)
    settings = VNPostSettings(_env_file=None)  # type: ignore[call-arg]
    config = settings.config()
    assert (config.api_url, config.username, config.customer_code) == (
        "http://127.0.0.1:8201",
        "dvcgw-dev",
        "DVCGW0001",
    )
    assert settings.uses_simulator_secret()
    assert "dvcgw-dev-password" not in repr(config)


def test_production_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, keys: KeyPair) -> None:
    monkeypatch.setenv("DVCGW_VNPOST_API_URL", "https://my.vnpost.vn/MYVNP_API/")
    monkeypatch.setenv("DVCGW_VNPOST_PASSWORD", "a-real-one")
    monkeypatch.setenv("DVCGW_VNPOST_PUSH_PUBLIC_KEY", keys.public_pem)
    settings = VNPostSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.config().api_url == "https://my.vnpost.vn/MYVNP_API"
    assert not settings.uses_simulator_secret()
    monkeypatch.setenv("DVCGW_VNPOST_PUSH_PUBLIC_KEY", SIMULATOR_PUSH_PUBLIC_KEY)
    assert VNPostSettings(_env_file=None).uses_simulator_secret()  # type: ignore[call-arg]


def test_the_carrier_registry_builds_the_adapter_and_names_its_simulator() -> None:
    entry = CARRIERS["vnpost"]
    carrier = entry.build(entry.settings(), None)
    assert isinstance(carrier, VNPostProvider) and carrier.name == "vnpost"
    assert (entry.simulator.module, entry.simulator.port) == ("simulators.vnpost", 8201)
