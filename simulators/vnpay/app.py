"""The Litestar application of the VNPay sandbox simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Request, get
from litestar.datastructures import State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from .config import SimulatorConfig, default_config
from .control import CONTROL_HANDLERS
from .ipn import IpnDispatcher
from .merchant_api import API_PATH, MERCHANT_API_HANDLERS
from .payment_page import (
    PAY_PATH,
    PAYMENT_PAGE_HANDLERS,
    TEST_CARD_HOLDER,
    TEST_CARD_ISSUE_DATE,
    TEST_CARD_NUMBER,
    TEST_OTP,
)
from .settlement_file import SETTLEMENT_HANDLERS
from .simulator_state import STATE_KEY, SimulatorState, simulator_of
from .store import Store

TEMPLATES = Path(__file__).parent / "templates"


@get("/", sync_to_thread=False)
def index(request: Request) -> Template:
    sim = simulator_of(request.app.state)
    context: dict[str, Any] = {
        "public_url": sim.config.public_url.rstrip("/"),
        "pay_path": PAY_PATH,
        "api_path": API_PATH,
        # Never the hash secrets: the page is for humans looking at a running simulator.
        "merchants": [{"tmn_code": m.tmn_code, "name": m.name, "ipn_url": m.ipn_url} for m in sim.config.merchants],
        "card": {
            "bank": "NCB",
            "number": TEST_CARD_NUMBER,
            "holder": TEST_CARD_HOLDER,
            "issue_date": TEST_CARD_ISSUE_DATE,
            "otp": TEST_OTP,
        },
    }
    return Template(template_name="index.html", context=context)


def create_app(
    config: SimulatorConfig | None = None, *, ipn_transport: httpx.AsyncBaseTransport | None = None
) -> Litestar:
    """Build a simulator. `ipn_transport` lets tests route IPN GETs into an in-process ASGI app."""
    config = config or default_config()
    store = Store(config)
    # The dispatcher reads the faults in force at send time; PUT/DELETE replace the Faults object.
    ipn = IpnDispatcher(config, faults=lambda: sim.faults, transport=ipn_transport)
    sim = SimulatorState(config=config, store=store, ipn=ipn)

    async def stop_ipn_tasks() -> None:
        await sim.ipn.aclose()

    return Litestar(
        route_handlers=[
            index,
            *PAYMENT_PAGE_HANDLERS,
            *MERCHANT_API_HANDLERS,
            *CONTROL_HANDLERS,
            *SETTLEMENT_HANDLERS,
        ],
        state=State({STATE_KEY: sim}),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        on_shutdown=[stop_ipn_tasks],
        openapi_config=None,
    )
