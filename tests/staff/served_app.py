"""The gateway as `dvc-gateway serve` builds it from the environment, with the test carrier in place of
VNPost (tests/shipments/fake_carrier.py): for the browser tests, which serve it in a process of its own."""

from __future__ import annotations

from litestar import Litestar

from gateway.app import create_app
from tests.shipments.fake_carrier import FakeCarrier


def create() -> Litestar:
    return create_app(carrier=FakeCarrier())
