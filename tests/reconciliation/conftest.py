"""The finance world (tests/reconciliation/world.py), and the VNPay world of tests/gateway for the
end-to-end settlement-file tests."""

import pytest

from tests.gateway.conftest import settings, world
from tests.reconciliation.world import Finance, finance

__all__ = ["finance", "settings", "world"]


@pytest.fixture(autouse=True)
def books_checked(request: pytest.FixtureRequest) -> None:
    """Every reconciliation test ends with a clean ledger and clean receipts (checked by the fixture)."""
    if "finance" in request.fixturenames:
        fixture: Finance = request.getfixturevalue("finance")
        fixture.check_books = True
