"""Every adapter signs as its provider documents: the provider's published vectors, and the requests the
adapter sends, checked by the kit's own code."""

from __future__ import annotations

import pytest
import respx

from contracts.providers import Capability, ProviderOutcome
from tests.conformance.kit import PAYMENT, REFUND, Kit, SignatureVector
from tests.conformance.kits import KITS, by_kit, codes_for


@pytest.mark.parametrize(("kit", "vector"), by_kit(lambda kit: kit.signature_vectors(), lambda v: v.name))
def test_the_adapter_reproduces_each_published_signature(kit: Kit, vector: SignatureVector) -> None:
    assert kit.adapter_signature(vector) == vector.signature


@pytest.mark.parametrize(
    ("kit", "vector"),
    by_kit(lambda kit: [v for v in kit.signature_vectors() if v.signed_text is not None], lambda v: v.name),
)
def test_the_adapter_signs_exactly_the_published_text(kit: Kit, vector: SignatureVector) -> None:
    assert kit.adapter_signed_text(vector) == vector.signed_text


@pytest.mark.anyio
@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
async def test_a_query_is_sent_signed(kit: Kit) -> None:
    with respx.mock() as router:
        route = kit.query_route(router).mock(
            return_value=kit.query_answer(codes_for(kit.query_outcomes, ProviderOutcome.SUCCEEDED))
        )
        await kit.provider().query(PAYMENT)
    assert kit.request_is_signed(route.calls.last.request)


@pytest.mark.anyio
@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
async def test_a_refund_is_sent_signed(kit: Kit) -> None:
    provider = kit.provider()
    if Capability.REFUND not in provider.capabilities:
        pytest.skip(f"{kit.name} makes no refunds")
    with respx.mock() as router:
        route = kit.refund_route(router).mock(
            return_value=kit.refund_answer(codes_for(kit.refund_outcomes, ProviderOutcome.SUCCEEDED))
        )
        await provider.refund(REFUND)
    assert kit.request_is_signed(route.calls.last.request)
