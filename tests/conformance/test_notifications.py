"""The conformance suite every payment adapter passes: a notification is believed only as far as the
provider's signature vouches for it, whatever the encoding tricks around it."""

from __future__ import annotations

import contextlib

import pytest

from contracts.errors import InvalidSignature
from contracts.providers import ProviderOutcome, ProviderResult
from tests.conformance.kit import AMOUNT, REFERENCE, Kit
from tests.conformance.kits import KITS

pytestmark = pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)


@pytest.mark.parametrize(
    "outcome",
    [ProviderOutcome.SUCCEEDED, ProviderOutcome.FAILED, ProviderOutcome.UNDER_REVIEW, ProviderOutcome.PENDING],
)
def test_a_genuine_notification_reads_as_sent(kit: Kit, outcome: ProviderOutcome) -> None:
    result = kit.provider().parse_notification(kit.genuine(outcome))
    assert (result.reference, result.amount, result.outcome) == (REFERENCE, AMOUNT, outcome)
    assert (result.paid_at is not None) == (outcome is ProviderOutcome.SUCCEEDED)


def test_every_forgery_is_refused(kit: Kit) -> None:
    provider = kit.provider()
    genuine = kit.genuine(ProviderOutcome.SUCCEEDED)
    accepted: list[tuple[str, ProviderResult]] = []
    for variant in kit.forgeries(genuine):
        with contextlib.suppress(InvalidSignature):
            accepted.append((variant.name, provider.parse_notification(variant.inbound)))
    assert accepted == []


def test_other_senders_encodings_read_exactly_as_the_genuine_one(kit: Kit) -> None:
    provider = kit.provider()
    genuine = kit.genuine(ProviderOutcome.SUCCEEDED)
    expected = provider.parse_notification(genuine)
    for variant in kit.re_encodings(genuine):
        assert provider.parse_notification(variant.inbound) == expected, variant.name


def test_the_adapters_own_checkout_request_is_not_a_notification(kit: Kit) -> None:
    provider = kit.provider()
    for variant in kit.checkout_as_notification(provider):
        with pytest.raises(InvalidSignature):
            provider.parse_notification(variant.inbound)
