"""Amounts cross the wire in the provider's units, both ways, and an amount the provider never writes is
refused, never read as some other number."""

from __future__ import annotations

import dataclasses

import pytest
import respx

from contracts.errors import ProviderError
from contracts.providers import Capability, ProviderOutcome
from tests.conformance.kit import ORDER, PAYMENT, REFUND, Kit
from tests.conformance.kits import by_kit, codes_for


def _amounts(kit: Kit) -> list[int]:
    return [1, ORDER.amount, 1_000_000, kit.largest_amount]


def _malformed(kit: Kit) -> list[tuple[str, str]]:
    return list(kit.malformed_wire_amounts().items())


def _paid(kit: Kit) -> dict[str, str]:
    return dict(codes_for(kit.notification_outcomes, ProviderOutcome.SUCCEEDED))


@pytest.mark.parametrize(("kit", "vnd"), by_kit(_amounts, str))
def test_a_notification_amount_is_read_in_the_providers_units(kit: Kit, vnd: int) -> None:
    result = kit.provider().parse_notification(kit.notification(_paid(kit), kit.wire_amount(vnd)))
    assert result.amount == vnd
    assert type(result.amount) is int


@pytest.mark.parametrize(("kit", "malformed"), by_kit(_malformed, lambda row: row[0]))
def test_a_malformed_amount_in_a_signed_notification_is_refused(kit: Kit, malformed: tuple[str, str]) -> None:
    """Signed by the provider yet unreadable: ValueError, which the gateway answers with a request to resend."""
    inbound = kit.notification(_paid(kit), malformed[1])
    with pytest.raises(ValueError):
        kit.provider().parse_notification(inbound)


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "vnd"), by_kit(_amounts, str))
async def test_a_query_answer_amount_is_read_in_the_providers_units(kit: Kit, vnd: int) -> None:
    with respx.mock() as router:
        answer = kit.query_answer(codes_for(kit.query_outcomes, ProviderOutcome.SUCCEEDED), kit.wire_amount(vnd))
        kit.query_route(router).mock(return_value=answer)
        result = await kit.provider().query(PAYMENT)
    assert result.amount == vnd
    assert type(result.amount) is int


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "malformed"), by_kit(_malformed, lambda row: row[0]))
async def test_a_malformed_amount_in_a_query_answer_is_refused(kit: Kit, malformed: tuple[str, str]) -> None:
    with respx.mock() as router:
        answer = kit.query_answer(codes_for(kit.query_outcomes, ProviderOutcome.SUCCEEDED), malformed[1])
        kit.query_route(router).mock(return_value=answer)
        with pytest.raises((ValueError, ProviderError)):
            await kit.provider().query(PAYMENT)


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "vnd"), by_kit(_amounts, str))
async def test_a_checkout_carries_the_amount_in_the_providers_units(kit: Kit, vnd: int) -> None:
    # Nothing is routed: VNPay's checkout is a URL the adapter signs, no call. A provider whose checkout
    # is an API call gets a route for it in its kit.
    with respx.mock():
        checkout = await kit.provider().create_checkout(dataclasses.replace(ORDER, amount=vnd))
    assert kit.checkout_wire_amount(checkout) == kit.wire_amount(vnd)


@pytest.mark.anyio
@pytest.mark.parametrize(("kit", "vnd"), by_kit(_amounts, str))
async def test_a_refund_request_carries_the_amount_in_the_providers_units(kit: Kit, vnd: int) -> None:
    provider = kit.provider()
    if Capability.REFUND not in provider.capabilities:
        pytest.skip(f"{kit.name} makes no refunds")
    with respx.mock() as router:
        route = kit.refund_route(router).mock(
            return_value=kit.refund_answer(codes_for(kit.refund_outcomes, ProviderOutcome.SUCCEEDED))
        )
        await provider.refund(dataclasses.replace(REFUND, amount=vnd))
    assert kit.sent_wire_amount(route.calls.last.request) == kit.wire_amount(vnd)
