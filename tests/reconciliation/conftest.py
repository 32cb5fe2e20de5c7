"""The finance world (tests/reconciliation/world.py), and the VNPay world of tests/gateway for the
end-to-end settlement-file tests."""

from tests.gateway.conftest import settings, world
from tests.reconciliation.world import finance

__all__ = ["finance", "settings", "world"]
