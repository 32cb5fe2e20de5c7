"""Proof of delivery files: JPEG, PNG or PDF, judged by their content, capped in size, kept in the database.

What a file is comes from its first bytes (the magic number), never from its name or the Content-Type the
browser sent, and is confirmed by parsing it: Pillow decodes an image (a JPEG at 1/8 scale, which reads
every scan of the file for a fraction of the memory), pypdf reads a PDF's page tree. A file past
`proof_max_bytes`, `proof_max_pixels` or `proof_max_pdf_pages`, an encrypted PDF, or one that does not
parse is refused and nothing is stored.

The bytes live in the table proof_files, so every gateway process on the database serves them, with their
SHA-256 for whoever must show later that a proof was not changed. A proof is read back only through its
shipment: by staff of the office it was recorded at, or by the portal that owns the shipment.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

import anyio
from litestar import Response
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import ProofFile
from gateway.errors import DomainError, NotFound
from gateway.ids import new_id
from gateway.settings import Settings

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
_MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"%PDF-", PDF))
# A PNG is decoded whole (it has no reduced-scale decoding): this bounds the memory that takes.
PNG_MAX_PIXELS = 16_000_000
CHECKS_AT_ONCE = 2
_limiter = anyio.CapacityLimiter(CHECKS_AT_ONCE)


class ProofTooLarge(DomainError):
    status = 413
    type_slug = "proof-too-large"
    title = "The proof file is too large"


class ProofTypeRefused(DomainError):
    status = 415
    type_slug = "proof-type-refused"
    title = "A proof is a JPEG or PNG image or a PDF"


class ProofUnreadable(DomainError):
    status = 422
    type_slug = "proof-unreadable"
    title = "The proof file could not be read"


@dataclass(frozen=True, slots=True)
class CheckedProof:
    content_type: str
    data: bytes
    sha256: str


def sniff(data: bytes) -> str | None:
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def _check_image(data: bytes, content_type: str, settings: Settings) -> None:
    fmt = "JPEG" if content_type == JPEG else "PNG"
    # Image.open reads the header only; the pixel count is checked before anything is decoded.
    with Image.open(io.BytesIO(data), formats=[fmt]) as image:
        pixels = image.width * image.height
        if pixels > settings.proof_max_pixels or (fmt == "PNG" and pixels > PNG_MAX_PIXELS):
            raise ProofTooLarge(f"The image has {pixels} pixels; at most {settings.proof_max_pixels} are taken.")
        if fmt == "JPEG":
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()


def _check_pdf(data: bytes, settings: Settings) -> None:
    reader = PdfReader(io.BytesIO(data), strict=True)
    if reader.is_encrypted:
        raise ProofUnreadable("The PDF is encrypted; send it without a password.")
    pages = len(reader.pages)
    if pages == 0:
        raise ProofUnreadable("The PDF has no page.")
    if pages > settings.proof_max_pdf_pages:
        raise ProofTooLarge(f"The PDF has {pages} pages; at most {settings.proof_max_pdf_pages} are taken.")
    for page in reader.pages:
        _ = page.mediabox


def check_proof(data: bytes, settings: Settings) -> CheckedProof:
    """The file as a proof, or ProofTooLarge, ProofTypeRefused or ProofUnreadable."""
    if len(data) > settings.proof_max_bytes:
        raise ProofTooLarge(f"A proof is at most {settings.proof_max_bytes} bytes.")
    if not data:
        raise ProofUnreadable("The file is empty.")
    content_type = sniff(data)
    if content_type is None:
        raise ProofTypeRefused("Send a photo (JPEG or PNG) or a PDF; the file's content is none of them.")
    try:
        if content_type == PDF:
            _check_pdf(data, settings)
        else:
            _check_image(data, content_type, settings)
    except DomainError:
        raise
    except Exception as exc:  # any failure of a parser on untrusted bytes means the same: not a readable file
        raise ProofUnreadable(f"The file starts like a {content_type} file but does not parse as one.") from exc
    return CheckedProof(content_type, data, hashlib.sha256(data).hexdigest())


async def check_proof_async(data: bytes, settings: Settings) -> CheckedProof:
    """check_proof in a worker thread (decoding is CPU work), a few at a time per process."""
    return await anyio.to_thread.run_sync(check_proof, data, settings, limiter=_limiter)


async def store_proof(
    session: AsyncSession, proof: CheckedProof, shipment_id: str, office_code: str, uploader_id: str, now: datetime
) -> ProofFile:
    row = ProofFile(
        id=new_id("prf"),
        shipment_id=shipment_id,
        office_code=office_code,
        content_type=proof.content_type,
        size=len(proof.data),
        sha256=proof.sha256,
        data=proof.data,
        uploaded_by=uploader_id,
        created_at=now,
    )
    session.add(row)
    return row


async def proof_of_shipment(session: AsyncSession, proof_id: str, shipment_id: str) -> ProofFile:
    """The proof `proof_id` if it belongs to `shipment_id`; NotFound otherwise. The caller has already
    checked that it may see the shipment (its office, or its portal)."""
    proof = await session.scalar(
        select(ProofFile).where(ProofFile.id == proof_id[:40], ProofFile.shipment_id == shipment_id[:40])
    )
    if proof is None:
        raise NotFound(f"No proof {proof_id!r} for this shipment.")
    return proof


def proof_response(proof: ProofFile) -> Response[bytes]:
    """The file as stored, under its checked type; never rendered as a page of this origin."""
    extension = {JPEG: "jpg", PNG: "png", PDF: "pdf"}[proof.content_type]
    return Response(
        proof.data,
        media_type=proof.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": f'inline; filename="{proof.id}.{extension}"',
            "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(proof.sha256)).decode()}:",  # RFC 9530
        },
    )
