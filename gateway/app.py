"""The app factory: everything a running gateway needs is built here from Settings."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import httpx
from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from contracts.shipping import Carrier
from gateway import problems
from gateway.auth import CallerCache
from gateway.clock import Clock
from gateway.clock import clock as system_clock
from gateway.content_type import require_json
from gateway.db.engine import create_engine, create_read_sessionmaker, create_sessionmaker
from gateway.db.request_session import DbSessionMiddleware, request_session
from gateway.demo.controller import DemoController
from gateway.health import health, ready
from gateway.idempotency import purge_expired
from gateway.ledger.controller import LedgerController
from gateway.limits import LimitsMiddleware, build_limiter
from gateway.logging import configure_logging
from gateway.middleware import RequestContextMiddleware
from gateway.notifications.controller import NotificationController
from gateway.notifications.service import NotificationService
from gateway.openapi import SECURITY_SCHEMES, RequestModelSchemas, allow_every_method
from gateway.payments.controller import PaymentController
from gateway.payments.providers import build_providers
from gateway.payments.providers_controller import ProviderController
from gateway.payments.resolver import Resolver
from gateway.receipts.controller import ReceiptController, ReceiptVerifyController
from gateway.reconciliation.controller import ReconciliationController
from gateway.reports.controller import ReportController
from gateway.request_text import refuse_nul
from gateway.settings import Settings, check_production_safety
from gateway.shipments.carriers import build_carrier, close_carrier
from gateway.shipments.controller import CarrierPushController, ShipmentController, TrackingController
from gateway.shipments.poller import ShipmentPoller
from gateway.staff.controller import StaffController, staff_static
from gateway.staff.finance import FinanceController
from gateway.staff.postal import postal_controller
from gateway.staff.proof_api import ProofController
from gateway.staff.sessions import purge_expired_sessions
from gateway.webhooks.controller import WebhookController
from gateway.webhooks.dispatcher import Dispatcher
from gateway.webhooks.targets import NameResolver
from gateway.workers import Workers


async def _before_request(request: Request[Any, Any, Any]) -> None:
    await refuse_nul(request)
    await require_json(request)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    provider_transport: httpx.AsyncBaseTransport | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    webhook_resolver: NameResolver | None = None,
    carrier: Carrier | None = None,
    carrier_transport: httpx.AsyncBaseTransport | None = None,
) -> Litestar:
    settings = settings or Settings()
    check_production_safety(settings)
    clock = clock or system_clock
    configure_logging(settings.log_level, json=settings.log_json)
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    providers = build_providers(settings, clock, provider_transport)
    dispatcher = Dispatcher(sessionmaker, settings, clock, webhook_transport, webhook_resolver)
    resolver = Resolver(sessionmaker, providers, settings, clock)
    notifications = NotificationService(sessionmaker, providers, settings, clock)
    limiter = build_limiter(settings, sessionmaker, clock)
    carrier = carrier or build_carrier(settings, carrier_transport)
    shipment_poller = ShipmentPoller(sessionmaker, carrier, settings, clock)
    workers = Workers(
        {"webhooks": dispatcher.run_once, "resolver": resolver.run_once, "shipments": shipment_poller.run_once},
        settings.worker_poll_seconds,
        hourly={
            "idempotency-purge": partial(purge_expired, sessionmaker, clock, settings.idempotency_retention_hours),
            "rate-limit-purge": limiter.purge,
            "staff-session-purge": partial(purge_expired_sessions, sessionmaker, clock, settings),
        },
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        if settings.workers_enabled:
            workers.start()
        try:
            yield
        finally:
            await workers.stop()
            await dispatcher.aclose()
            await providers.aclose()
            await close_carrier(carrier)
            await engine.dispose()

    plugin = problems.problem_details_plugin()
    return Litestar(
        route_handlers=[
            PaymentController,
            ProviderController,
            WebhookController,
            NotificationController,
            StaffController,
            postal_controller(settings),
            FinanceController,
            staff_static,
            ProofController,
            ShipmentController,
            TrackingController,
            CarrierPushController,
            ReceiptController,
            ReceiptVerifyController,
            LedgerController,
            ReconciliationController,
            ReportController,
            health,
            ready,
            *([DemoController] if settings.demo_enabled else []),
        ],
        dependencies={
            "db_session": Provide(request_session, sync_to_thread=False),
            "clock": Provide(lambda: clock, use_cache=True, sync_to_thread=False),
        },
        lifespan=[lifespan],
        plugins=[plugin, RequestModelSchemas()],
        exception_handlers={
            HTTP_500_INTERNAL_SERVER_ERROR: problems.internal_error,
            Exception: problems.internal_error,
        },
        middleware=[RequestContextMiddleware(), LimitsMiddleware(settings, limiter), DbSessionMiddleware()],
        before_request=_before_request,
        before_send=[allow_every_method],
        openapi_config=OpenAPIConfig(
            title="dvc-gateway",
            version="0.1.0",
            description="Fee payments and postal delivery for level-4 online public services.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            # Security is declared where a key is needed: the portal's controllers, not /health or /ready.
            components=Components(security_schemes=SECURITY_SCHEMES),
        ),
        request_max_body_size=settings.request_max_body_bytes,
        state=State(
            {
                "settings": settings,
                "clock": clock,
                "engine": engine,
                "sessionmaker": sessionmaker,
                "read_sessionmaker": create_read_sessionmaker(engine),
                "notifications": notifications,
                "callers": CallerCache(settings.auth_cache_seconds),
                "limiter": limiter,
                "providers": providers,
                "dispatcher": dispatcher,
                "resolver": resolver,
                "carrier": carrier,
                "shipment_poller": shipment_poller,
            }
        ),
        debug=settings.debug,
        # Without a logging config Litestar logs nothing itself; with its default one, in debug mode it wrote
        # every exception through a handler of its own, unmasked. problems.internal_error logs them.
        logging_config=None,
    )
