"""Every row of the provider's code tables means what the kit says it means, read through the port: a
notification, a query, a refund and a refund query, the provider's API mocked with respx."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import pytest
import respx

from contracts.providers import Capability, ProviderResult, RefundResult
from tests.conformance.kit import AMOUNT, PAYMENT, REFERENCE, REFUND, Expected, Kit, OutcomeCase
from tests.conformance.kits import by_kit

T = TypeVar("T")


def _name(case: OutcomeCase) -> str:
    return case.name


async def _answer(expected: Expected, call: Awaitable[T]) -> T | None:
    """What `call` returns, or None once it raised the error `expected` names (then it must)."""
    if isinstance(expected, type):
        with pytest.raises(expected):
            await call
        return None
    return await call


def _needs(kit: Kit, capability: Capability) -> None:
    if capability not in kit.provider().capabilities:
        pytest.skip(f"{kit.name} does not offer {capability}")


@pytest.mark.parametrize(("kit", "case"), by_kit(lambda kit: kit.notification_outcomes, _name))
def test_a_notification_means_what_its_codes_say(kit: Kit, case: OutcomeCase) -> None:
    result = kit.provider().parse_notification(kit.notification(case.codes))
    assert (result.outcome, result.reference, result.amount) == (case.expected, REFERENCE, AMOUNT)


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "case"), by_kit(lambda kit: kit.query_outcomes, _name))
async def test_a_query_answer_means_what_its_codes_say(kit: Kit, case: OutcomeCase) -> None:
    with respx.mock() as router:
        kit.query_route(router).mock(return_value=kit.query_answer(case.codes))
        result: ProviderResult | None = await _answer(case.expected, kit.provider().query(PAYMENT))
    if result is not None:
        assert (result.outcome, result.reference) == (case.expected, REFERENCE)


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "case"), by_kit(lambda kit: kit.refund_outcomes, _name))
async def test_a_refund_answer_means_what_its_codes_say(kit: Kit, case: OutcomeCase) -> None:
    _needs(kit, Capability.REFUND)
    with respx.mock() as router:
        kit.refund_route(router).mock(return_value=kit.refund_answer(case.codes))
        result: RefundResult | None = await _answer(case.expected, kit.provider().refund(REFUND))
    if result is not None:
        assert (result.outcome, result.request_id) == (case.expected, REFUND.request_id)


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "case"), by_kit(lambda kit: kit.refund_query_outcomes, _name))
async def test_a_refund_query_answer_means_what_its_codes_say(kit: Kit, case: OutcomeCase) -> None:
    _needs(kit, Capability.REFUND_STATUS)
    with respx.mock() as router:
        kit.query_route(router).mock(return_value=kit.query_answer(case.codes))
        call = kit.provider().query_refund(PAYMENT, REFUND.request_id, REFUND.requested_at)
        if isinstance(case.expected, type):
            with pytest.raises(case.expected):
                await call
            return
        result = await call
    assert (None if result is None else result.outcome) == case.expected
