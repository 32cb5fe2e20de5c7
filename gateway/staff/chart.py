"""A bar chart drawn on the server as SVG numbers: the page shows it without any script."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
HEIGHT = 240
TOP = 12
BOTTOM = 40  # room for the day labels
LEFT = 4


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    negative: bool


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    zero_y: float
    bars: list[Bar]
    label_every: int  # every n-th day is labelled, so 31 labels do not overlap on a phone


def bar_chart(points: list[tuple[str, int]]) -> Chart:
    """Bars of `points` (label, value), on one scale from the lowest to the highest value, zero included."""
    high = max([0, *(v for _, v in points)])
    low = min([0, *(v for _, v in points)])
    span = (high - low) or 1
    plot = HEIGHT - TOP - BOTTOM
    zero_y = TOP + plot * high / span
    step = (WIDTH - LEFT) / max(len(points), 1)
    bars = []
    for n, (label, value) in enumerate(points):
        size = plot * abs(value) / span
        y = zero_y - size if value >= 0 else zero_y
        bars.append(
            Bar(
                round(LEFT + n * step + step * 0.15, 2),
                round(y, 2),
                round(step * 0.7, 2),
                round(size, 2),
                label,
                value,
                value < 0,
            )
        )
    return Chart(WIDTH, HEIGHT, round(zero_y, 2), bars, max(1, -(-len(points) // 8)))
