"""The demo offers every enabled provider, and shows a provider's QR as an image and its app link."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from gateway.db.models import Payment
from tests.gateway.test_demo import create
from tests.harness import World

pytestmark = pytest.mark.anyio


async def test_the_form_offers_each_enabled_provider(world: World) -> None:
    page = (await world.http.get("/demo")).text
    assert '<select id="provider" name="provider">' in page and '<option value="vnpay" selected>VNPay</option>' in page


async def test_an_unknown_provider_is_refused_on_the_form(world: World) -> None:
    from tests.gateway.test_demo import form, post_form

    r = await post_form(world, form(provider="paypal"))
    assert r.status_code == 400


async def test_a_payment_with_a_qr_shows_it_as_an_image_and_its_app_link(world: World) -> None:
    payment_id = await create(world, provider="vnpay")
    async with world.app.state.sessionmaker() as session:
        await session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(qr_code="00020101021238570010A000000727", deeplink="momo://app?x=1")
        )
        await session.commit()
    page = (await world.http.get(f"/demo/payments/{payment_id}")).text
    assert '<img id="qr" src="data:image/svg+xml' in page
    assert 'href="momo://app?x=1"' in page
