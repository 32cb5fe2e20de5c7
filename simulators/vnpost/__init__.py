"""VNPost (MyVNPost partner API) simulator: token auth, fees, orders with S10 item numbers, cancellation,
tracking, RSA-signed status pushes, scripted progressions, faults and a COD remittance file."""

from __future__ import annotations

from .app import create_app
from .config import DEV_ACCOUNT, Account, SimulatorConfig, default_config
from .keys import DEV_PUBLIC_KEY_PEM

__all__ = ["DEV_ACCOUNT", "DEV_PUBLIC_KEY_PEM", "Account", "SimulatorConfig", "create_app", "default_config"]
