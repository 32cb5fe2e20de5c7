"""MoMo payment gateway v2 sandbox simulator: create, query, refund, a payment page, IPNs and a test-control
API."""

from __future__ import annotations

from .app import create_app
from .config import DEV_MERCHANT, Merchant, SimulatorConfig

__all__ = ["DEV_MERCHANT", "Merchant", "SimulatorConfig", "create_app"]
