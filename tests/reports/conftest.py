"""The finance world (tests/reconciliation/world.py) for these tests."""

from tests.reconciliation.world import finance

__all__ = ["finance"]
