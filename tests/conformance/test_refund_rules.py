"""Every adapter declares its refund rules on the port, and they agree with what it says it can do."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.providers import Capability
from tests.conformance.kits import KITS


@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
def test_the_refund_rules_are_declared_and_coherent(kit: object) -> None:
    provider = kit.provider()  # type: ignore[attr-defined]
    window = provider.refund_window
    assert window is None or (isinstance(window, timedelta) and window >= timedelta(days=1))
    assert window is None or window == timedelta(days=window.days)  # told to portals in whole days
    assert isinstance(provider.min_refund_amount, int) and 0 <= provider.min_refund_amount <= provider.max_amount
    if Capability.REFUND in provider.capabilities:
        assert provider.min_refund_amount >= 1  # a refund of nothing is never sent
    else:
        assert Capability.PARTIAL_REFUND not in provider.capabilities and window is None
