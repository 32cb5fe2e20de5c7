"""Proof files are judged by their content: real JPEG, PNG and PDF files pass; anything else, anything
broken and anything too big is refused, whatever it is called."""

from __future__ import annotations

import hashlib

import pytest

from gateway.settings import Settings
from gateway.staff.proofs import (
    JPEG,
    PDF,
    PNG,
    ProofTooLarge,
    ProofTypeRefused,
    ProofUnreadable,
    check_proof,
)
from tests.staff import files

SETTINGS = Settings(proof_max_bytes=200_000, proof_max_pixels=4_000_000, proof_max_pdf_pages=3)


@pytest.mark.parametrize(("data", "content_type"), [(files.jpeg(), JPEG), (files.png(), PNG), (files.pdf(2), PDF)])
def test_real_files_pass_with_their_type_and_hash(data: bytes, content_type: str) -> None:
    checked = check_proof(data, SETTINGS)
    assert checked.content_type == content_type
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",  # a page named photo.jpg
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"PK\x03\x04 a zip",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"\x00" * 64,
    ],
)
def test_other_kinds_are_refused_by_content(data: bytes) -> None:
    with pytest.raises(ProofTypeRefused):
        check_proof(data, SETTINGS)


@pytest.mark.parametrize(
    "data",
    [
        files.jpeg()[:200],  # a JPEG cut short
        b"\xff\xd8\xff\xe0" + b"not a jpeg at all" * 20,
        files.png()[:40],
        files.png().replace(b"IDAT", b"IDAX"),
        b"%PDF-1.7\nnothing after the header",
        files.pdf()[: len(files.pdf()) // 2],
    ],
)
def test_files_that_only_look_right_are_refused(data: bytes) -> None:
    with pytest.raises(ProofUnreadable):
        check_proof(data, SETTINGS)


def test_an_encrypted_pdf_is_refused() -> None:
    with pytest.raises(ProofUnreadable, match="encrypted"):
        check_proof(files.pdf(password="bí mật"), SETTINGS)


def test_size_pixels_and_pages_are_capped() -> None:
    with pytest.raises(ProofTooLarge):
        check_proof(files.jpeg() + b"\x00" * SETTINGS.proof_max_bytes, SETTINGS)
    with pytest.raises(ProofTooLarge, match="pixels"):
        check_proof(files.png((2500, 2000)), SETTINGS)  # small on disk, five megapixels decoded
    with pytest.raises(ProofTooLarge, match="pages"):
        check_proof(files.pdf(4), SETTINGS)
    with pytest.raises(ProofUnreadable):
        check_proof(b"", SETTINGS)
