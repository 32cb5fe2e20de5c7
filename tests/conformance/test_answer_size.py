"""Every adapter reads at most adapters.http.MAX_ANSWER_BYTES of a provider's answer: a longer one (a
hostile or broken host) is an answer that could not be read, never one held whole in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from adapters.http import MAX_ANSWER_BYTES
from contracts.errors import ProviderUnavailable
from tests.conformance.kit import PAYMENT, Kit
from tests.conformance.kits import KITS


class Endless(httpx.AsyncByteStream):
    """A body that never ends, without a Content-Length: only a reader that stops can get past it."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b" " * 65_536
        while True:
            self.sent += len(chunk)
            yield chunk


@pytest.mark.anyio
@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
async def test_an_answer_longer_than_the_cap_is_not_read_to_its_end(kit: Kit) -> None:
    body = Endless()
    with respx.mock() as router:
        kit.query_route(router).mock(return_value=httpx.Response(200, stream=body))
        with pytest.raises(ProviderUnavailable, match="more than"):
            await kit.provider().query(PAYMENT)
    assert MAX_ANSWER_BYTES < body.sent <= (MAX_ANSWER_BYTES + 65_536) * 3  # each of its tries stopped early


@pytest.mark.anyio
@pytest.mark.parametrize("kit", KITS, ids=lambda kit: kit.name)
async def test_an_answer_declaring_a_length_over_the_cap_is_refused_unread(kit: Kit) -> None:
    too_long = httpx.Response(200, content=b"{}", headers={"Content-Length": str(MAX_ANSWER_BYTES + 1)})
    with respx.mock() as router:
        kit.query_route(router).mock(return_value=too_long)
        with pytest.raises(ProviderUnavailable, match="more than"):
            await kit.provider().query(PAYMENT)
