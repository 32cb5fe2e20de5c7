"""Every verdict of the gateway is answered exactly as the provider documents, in a body it can parse."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.providers import Verdict
from tests.conformance.kit import ExpectedAck, Kit
from tests.conformance.kits import KITS, by_kit


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), f"a key is written twice: {names}"
    return dict(pairs)


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def parsed(body: bytes) -> object:
    """The body as a strict JSON parser reads it: UTF-8, no NaN or Infinity, no key written twice."""
    return json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant)


@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
def test_the_kit_documents_every_verdict(kit: Kit) -> None:
    assert set(kit.acknowledgements) == set(Verdict)


@pytest.mark.parametrize(
    ("kit", "row"), by_kit(lambda kit: kit.acknowledgements.items(), lambda row: str(row[0].value))
)
def test_each_verdict_is_answered_as_the_provider_documents(kit: Kit, row: tuple[Verdict, ExpectedAck]) -> None:
    verdict, expected = row
    ack = kit.provider().acknowledge(verdict)
    assert (ack.code, ack.status_code, ack.media_type) == (expected.code, expected.status_code, expected.media_type)
    if expected.document is None:
        assert ack.body == b""
    else:
        assert parsed(ack.body) == expected.document


@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
def test_only_a_settled_notification_stops_the_provider_sending_it(kit: Kit) -> None:
    """A failure of ours must bring the notification again; one recorded, or already final, must not."""
    provider = kit.provider()
    final = {provider.acknowledge(v).code for v, expected in kit.acknowledgements.items() if not expected.resent}
    assert provider.acknowledge(Verdict.RETRY).code not in final
    assert {provider.acknowledge(Verdict.RECORDED).code, provider.acknowledge(Verdict.ALREADY_FINAL).code} <= final
