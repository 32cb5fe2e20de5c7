"""The OpenAPI document tells the truth: schemathesis, with every check it has, against the gateway in process.

Each operation gets schema-valid and schema-violating requests (its examples, the coverage phase's
boundary values, then random ones), and the stateful test chains them through the links schemathesis
infers (a created payment's id into the operations that take one). Any finding fails the test: a 5xx, a
status, header or content type the document does not declare, a body that is not its schema, valid input
refused, invalid input accepted, a key that is not needed. Bounded by the number of examples, with a
fixed seed, so a run is repeatable and takes under a minute on either database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from adapters.payos.settings import PayOSSettings
from adapters.vnpost.settings import VNPostSettings
from contracts.money import MAX_VND
from gateway.app import create_app
from gateway.auth import hash_key, new_client
from gateway.clock import Clock
from gateway.db.engine import create_engine, create_sessionmaker
from gateway.settings import Settings
from simulators.payos import SimulatorConfig
from simulators.payos import create_app as create_payos_simulator
from simulators.vnpost import DEV_ACCOUNT
from simulators.vnpost import SimulatorConfig as VNPostSimulatorConfig
from simulators.vnpost import create_app as create_vnpost_simulator
from tests.conftest import empty_tables
from tests.harness import GATEWAY, LateASGI

EXAMPLES_PER_OPERATION = 200
STATEFUL_SCENARIOS = 60
SEED = 20261130
API_KEY = "dvcgw_schemathesis-portal"

# The document does not depend on the database: it is read off an app that never starts. The requests go to
# the gateway the fixture builds on the run's database, through this stand-in.
GATEWAY_APP = LateASGI()
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "auth": {"openapi": {"portalBearer": {"bearer": API_KEY}}},
        "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION, "database": "none"},
        "checks": {
            # 400 says a request does not match the document; 422 that a well-formed one is refused for what
            # it asks (a cursor this API did not give out, an Idempotency-Key used for another body).
            # 502 and 504 are the gateway's documented answers when a provider refuses or does not answer
            # (here, no provider ever answers, so its breaker opens: 503); only an undocumented 5xx is an error.
            "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "503", "504"]},
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
            },
        },
    }
)
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi_schema.to_schema(), config=CONFIG)
schema.app = GATEWAY_APP


def _integers_as_integers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integers_as_integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers_as_integers(v) for v in value]
    return value


def _valid(case: Any) -> bool:
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


# Two rules JSON Schema cannot state, which the schema's descriptions do: valid requests are made to keep them.
@schema.hook
def map_case(context: Any, case: Any) -> Any:
    # JSON Schema counts 1000.0 as an integer; the gateway takes an amount only written as one: 1000.
    if _valid(case) and isinstance(case.body, dict):
        case.body = _integers_as_integers(case.body)
    return case


@schema.hook
def filter_case(context: Any, case: Any) -> bool:
    # A payment's fee lines add up to at most MAX_VND.
    if not (_valid(case) and isinstance(case.body, dict) and isinstance(case.body.get("fee_lines"), list)):
        return True
    return sum(line.get("amount", 0) for line in case.body["fee_lines"] if isinstance(line, dict)) <= MAX_VND


def _no_provider(request: httpx.Request) -> httpx.Response:
    # No payment can succeed here (no citizen pays), so no refund reaches VNPay; were one to, it is a 504.
    raise httpx.ConnectError("no payment provider in this test", request=request)


PAYOS = "http://payos.test"
VNPOST = "http://vnpost.test"


class _Providers(httpx.AsyncBaseTransport):
    """payOS's simulator for payOS; no other provider is reached."""

    def __init__(self) -> None:
        self.payos = httpx.ASGITransport(app=create_payos_simulator(SimulatorConfig(public_url=PAYOS)))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "payos.test":
            return await self.payos.handle_async_request(request)
        return _no_provider(request)


async def _add_portal(database_url: str, clock: Clock) -> None:
    await empty_tables(database_url)
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            client, _ = new_client("Cổng DVC (schemathesis)", clock.now(), "http://portal.test/hooks")
            client.api_key_hash = hash_key(API_KEY)
            session.add(client)
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def gateway(database_url: str) -> Iterator[None]:
    clock = Clock()
    asyncio.run(_add_portal(database_url, clock))
    # Thousands of requests from one address, many with a wrong key on purpose: limits out of the way (429
    # is declared, and tests/gateway/test_rate_limits.py proves it).
    settings = Settings(
        database_url=database_url,
        public_base_url=GATEWAY,
        workers_enabled=False,
        rate_limit_store="memory",
        rate_limit_per_key=10**9,
        rate_limit_auth_failures_per_address=10**9,
        # payOS's checkout is a call to payOS: its simulator answers it (VNPay's is a URL, no call).
        providers={"payos": PayOSSettings(api_url=PAYOS)},
        # Shipments are booked with VNPost's simulator, which pushes back to the gateway.
        carriers={"vnpost": VNPostSettings(_env_file=None, api_url=VNPOST)},  # type: ignore[call-arg]
    )
    vnpost = create_vnpost_simulator(
        VNPostSimulatorConfig(accounts=[DEV_ACCOUNT], callback_url=f"{GATEWAY}/callbacks/vnpost"),
        push_transport=httpx.ASGITransport(app=GATEWAY_APP),
    )
    GATEWAY_APP.target = create_app(
        settings,
        clock=clock,
        provider_transport=_Providers(),
        carrier_transport=httpx.ASGITransport(app=vnpost),
        webhook_transport=httpx.MockTransport(lambda _: httpx.Response(200)),
    )
    try:
        yield
    finally:
        # The app runs, lifespan and requests alike, on the event loop schemathesis keeps for ASGI apps.
        asgi.shutdown_lifespans()
        GATEWAY_APP.target = None


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_answers_as_the_schema_says(case: Any, gateway: None) -> None:
    case.call_and_validate()


def test_chained_operations_answer_as_the_schema_says(gateway: None) -> None:
    schema.as_state_machine().run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
