"""payOS's official Python SDK (payos 1.1.0), unchanged, against the simulator on a loopback port: it
creates, reads and cancels payment links, confirms a webhook URL, and verifies the simulator's webhooks.
Its models refuse unknown fields, so this also holds the simulator to the fields payOS answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from payos import PayOS
from payos.types import CreatePaymentLinkRequest

from simulators.payos import SimulatorConfig, create_app
from simulators.payos.config import DEV_MERCHANT
from tests.payos_wire import vietqr

hooks: list[httpx.Request] = []


def _merchant(request: httpx.Request) -> httpx.Response:
    hooks.append(request)
    return httpx.Response(200, json={"ok": True})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        SimulatorConfig(public_url=url, webhook_retry_intervals=()), webhook_transport=httpx.MockTransport(_merchant)
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:  # start-up, not an assertion: the test itself waits for nothing
        if not thread.is_alive():
            raise RuntimeError("the simulator did not start")
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


@pytest.fixture
def payos(base_url: str) -> Iterator[PayOS]:
    client = PayOS(
        client_id=DEV_MERCHANT.client_id,
        api_key=DEV_MERCHANT.api_key,
        checksum_key=DEV_MERCHANT.checksum_key,
        base_url=base_url,
    )
    yield client
    client.close()


def _order(order_code: int) -> CreatePaymentLinkRequest:
    return CreatePaymentLinkRequest(
        order_code=order_code,
        amount=35000,
        description="LE PHI HS0001",
        cancel_url="https://gw.example.vn/callbacks/payos/return",
        return_url="https://gw.example.vn/callbacks/payos/return",
    )


def test_the_sdk_creates_reads_and_cancels_a_link(payos: PayOS) -> None:
    created = payos.payment_requests.create(_order(2001))
    assert (created.order_code, created.amount, created.status) == (2001, 35000, "PENDING")
    assert vietqr(created.qr_code)["amount"] == 35000
    link = payos.payment_requests.get(created.payment_link_id)
    assert (link.id, link.order_code, link.amount_remaining) == (created.payment_link_id, 2001, 35000)
    assert payos.payment_requests.get(2001) == link
    cancelled = payos.payment_requests.cancel(2001, "Nguoi nop huy")
    assert (cancelled.status, cancelled.cancellation_reason) == ("CANCELLED", "Nguoi nop huy")


def test_the_sdk_confirms_a_webhook_url_and_verifies_the_webhooks(payos: PayOS, base_url: str) -> None:
    confirmed = payos.webhooks.confirm("https://merchant.example/payos/hook")
    assert confirmed.webhook_url == "https://merchant.example/payos/hook"
    assert payos.webhooks.verify(hooks[-1].content).order_code == 123  # payOS's test delivery
    payos.payment_requests.create(_order(2002))
    answer = httpx.post(f"{base_url}/_sim/payos/payment-requests/2002/pay").json()
    assert str(hooks[-1].url) == "https://merchant.example/payos/hook"
    data = payos.webhooks.verify(hooks[-1].content)
    assert (data.order_code, data.amount, data.code) == (2002, 35000, "00")
    assert data.reference == answer["webhook"]["body"]["data"]["reference"]
    paid = payos.payment_requests.get(2002)
    assert (paid.status, paid.amount_paid, paid.transactions[0].reference) == ("PAID", 35000, data.reference)
