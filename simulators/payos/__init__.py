"""payOS simulator: payment links paid by VietQR bank transfer, webhooks, and a test-control API."""

from __future__ import annotations

from .app import create_app
from .config import DEV_MERCHANT, Merchant, SimulatorConfig

__all__ = ["DEV_MERCHANT", "Merchant", "SimulatorConfig", "create_app"]
