"""Reading a receipt PDF back: its text (pypdf) and its QR code (rendered by pdfium, decoded by zxing-cpp)."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pypdfium2
import zxingcpp
from pypdf import PdfReader

from tests.harness import World, reference_of


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def qr_codes(pdf: bytes) -> list[str]:
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=300 / 72).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format.name == "QRCode"]


async def paid(world: World, body: dict[str, Any] | None = None) -> dict[str, Any]:
    await world.faults(refund_pending=False)
    payment = (await world.create_payment(body)).json()
    await world.open_checkout(payment["checkout_url"])
    await world.settle(reference_of(payment), "00")
    return await world.get_payment(payment["id"])


async def refund(world: World, payment_id: str, **body: Any) -> dict[str, Any]:
    r = await world.http.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"reason": "Hồ sơ bị từ chối, hoàn phí", **body},
        headers={**world.auth(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())
