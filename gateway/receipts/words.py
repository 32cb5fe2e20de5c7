"""Amounts in Vietnamese words, as a receipt writes them ("Bằng chữ: ..."), by num2words."""

from __future__ import annotations

from num2words import num2words


def vnd_in_words(amount: int) -> str:
    """`150000` → "Một trăm năm mươi nghìn đồng"."""
    if type(amount) is not int or amount < 0:
        raise ValueError("an amount in words is a whole, non-negative number of VND")
    words = str(num2words(amount, lang="vi"))
    return f"{words[:1].upper()}{words[1:]} đồng"


def vnd_in_figures(amount: int) -> str:
    """`150000` → "150.000": Vietnamese groups thousands with dots."""
    return f"{amount:,}".replace(",", ".")
