"""The payment adapters the conformance suite runs against, one kit each (tests/conformance/kit.py says what
a kit supplies). Adding a provider is writing its kit and naming it here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from tests.conformance.kit import Expected, Kit, OutcomeCase
from tests.conformance.momo_kit import MoMoKit
from tests.conformance.payos_kit import PayOSKit
from tests.conformance.vnpay_kit import VNPayKit
from tests.conformance.zalopay_kit import ZaloPayKit

KITS: list[Kit] = [VNPayKit(), MoMoKit(), ZaloPayKit(), PayOSKit()]


def by_kit(rows: Callable[[Kit], Iterable[Any]], name: Callable[[Any], str]) -> list[Any]:
    """pytest parameters (kit, row) over every kit's rows, each named after its kit and row."""
    return [pytest.param(kit, row, id=f"{kit.name}-{name(row)}") for kit in KITS for row in rows(kit)]


def codes_for(cases: Iterable[OutcomeCase], expected: Expected) -> Mapping[str, str]:
    """The codes of the first of a kit's cases that mean `expected`."""
    return next(case.codes for case in cases if case.expected == expected)
