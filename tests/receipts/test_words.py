"""Amounts in Vietnamese words and figures, as a receipt prints them (num2words, lang='vi')."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.money import MAX_VND
from gateway.receipts.words import vnd_in_figures, vnd_in_words
from tests.ledger.world import UNIT


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (1, "Một đồng"),
        (15, "Mười lăm đồng"),
        (21, "Hai mươi mốt đồng"),
        (35_000, "Ba mươi lăm nghìn đồng"),
        (150_000, "Một trăm năm mươi nghìn đồng"),
        (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
        (1_000_000_000, "Một tỷ đồng"),
    ],
)
def test_words(amount: int, words: str) -> None:
    assert vnd_in_words(amount) == words


@UNIT
@given(st.integers(0, MAX_VND))
def test_every_amount_has_words_and_figures(amount: int) -> None:
    words = vnd_in_words(amount)
    assert words[0].isupper() and words.endswith(" đồng") and not any(c.isdigit() for c in words)
    assert int(vnd_in_figures(amount).replace(".", "")) == amount


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_only_whole_non_negative_amounts(bad: object) -> None:
    with pytest.raises(ValueError):
        vnd_in_words(bad)  # type: ignore[arg-type]
