"""ZaloPay Open API v2 sandbox simulator: /v2/create, the gateway page, callbacks, /v2/query, /v2/refund,
/v2/query_refund and a test-control API."""

from __future__ import annotations

from .app import create_app
from .config import DEV_APP, App, SimulatorConfig

__all__ = ["DEV_APP", "App", "SimulatorConfig", "create_app"]
