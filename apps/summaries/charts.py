"""Small server-rendered SVG charts of a measurement over time, readable without JavaScript.

The chart is decoration for sighted readers; the same values are given as text
(the figure's caption and an accessible name), so nothing depends on seeing it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.translation import gettext as _

WIDTH, HEIGHT, PAD = 160, 48, 4


def values_text(points: list[tuple[date, Decimal]], unit: str) -> str:
    return ", ".join(
        _("%(value)s %(unit)s on %(date)s")
        % {
            "value": number_format(value.quantize(Decimal("0.01")).normalize(), use_l10n=True),
            "unit": unit,
            "date": date_format(day, "j M Y"),
        }
        for day, value in points
    )


def sparkline_svg(
    points: list[tuple[date, Decimal]], *, unit: str, low: Decimal | None = None, high: Decimal | None = None
) -> str:
    """An inline SVG line of the values, with the reference range as a band when known."""
    if len(points) < 2:
        return ""
    values = [float(v) for _d, v in points]
    lows = [float(low)] if low is not None else []
    highs = [float(high)] if high is not None else []
    bottom, top = min(values + lows), max(values + highs)
    span = (top - bottom) or 1.0
    step = (WIDTH - 2 * PAD) / (len(values) - 1)

    def y(value: float) -> float:
        return round(HEIGHT - PAD - (value - bottom) / span * (HEIGHT - 2 * PAD), 1)

    coords = " ".join(f"{round(PAD + i * step, 1)},{y(v)}" for i, v in enumerate(values))
    band = ""
    if low is not None and high is not None:
        band = (
            f'<rect x="0" y="{y(float(high))}" width="{WIDTH}" height="{max(y(float(low)) - y(float(high)), 1)}" '
            f'fill="#dcfce7"/>'
        )
    last_x, last_y = coords.split(" ")[-1].split(",")
    label = escape(values_text(points, unit))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{label}"><title>{label}</title>{band}'
        f'<polyline points="{coords}" fill="none" stroke="#1d4ed8" stroke-width="2"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="3" fill="#1d4ed8"/></svg>'
    )
