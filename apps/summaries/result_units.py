"""A result series in its test's unit: trend points, chart band, same-day agreement and the words
that say why a result stands in a series of its own (apps/clinical/units.py normalises each fact
when it is written; this reads what it stored)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext

from apps.clinical.units import NO_UNIT, UnitFlag, convert, normalize, same_measure

if TYPE_CHECKING:
    from apps.clinical.models import ClinicalFact


def measure(fact: ClinicalFact) -> tuple[Decimal, str] | None:
    """The fact's value and unit (UCUM) in its series' unit; as written for a fact stored before
    units were normalised. None for a result without a number."""
    if fact.value_decimal is None:
        return None
    if fact.value_normalized is not None:
        return fact.value_normalized, fact.unit_normalized
    return fact.value_decimal, fact.unit


def series_unit(group: list[ClinicalFact], latest: ClinicalFact) -> str:
    """The unit (UCUM) a series is shown and charted in: its latest fact's, or when that one has no
    number (a result in words), that of its newest dated number (the first stored on that day)."""
    point = measure(latest)
    if point is not None:
        return point[1]
    dated = [f for f in group if f.effective_date is not None and measure(f) is not None]
    if dated:
        newest = max(f.effective_date for f in dated if f.effective_date is not None)
        newest_point = measure(next(f for f in dated if f.effective_date == newest))
        if newest_point is not None:
            return newest_point[1]
    return latest.unit_normalized or latest.unit


def trend_points(group: list[ClinicalFact], latest: ClinicalFact, days: int) -> list[tuple[date, Decimal]]:
    """The dated numbers of one series at its ``days`` latest dates with a number (those the summary
    loads), in the series' unit, oldest first, one per day unless the day's results disagree. An
    implausible series has no trend: its values are kept and shown, never drawn. A result whose unit
    does not convert to the series' (a test without an entry in analytes.json) is left out rather
    than compared."""
    if latest.unit_flag == UnitFlag.IMPLAUSIBLE:
        return []
    unit = series_unit(group, latest)
    window = set(sorted({f.effective_date for f in group if f.effective_date and f.value_decimal is not None})[-days:])
    by_day: dict[date, list[ClinicalFact]] = defaultdict(list)
    values: dict[int, Decimal] = {}  # by fact id: its number in the series' unit
    for fact in group:
        point = measure(fact)
        if point is None or fact.effective_date not in window:
            continue
        value, point_unit = point
        if point_unit != unit:
            converted = convert(value, point_unit, unit, code_system=fact.code_system, code=fact.code)
            if converted is None:
                continue
            value = converted
        values[id(fact)] = value
        by_day[fact.effective_date].append(fact)
    points: list[tuple[date, Decimal]] = []
    for day, facts in by_day.items():
        distinct = sorted({values[id(fact)] for fact in facts})
        if len(distinct) > 1 and agree(facts):  # the same value in two units: one point
            distinct = [values[id(facts[0])]]
        points.extend((day, value) for value in distinct)  # sources that disagree: both, as the line shows
    return sorted(points)


def agree(group: list[ClinicalFact]) -> bool:
    """Whether the numbers of one (thing, day) say the same value, whatever unit each source used
    (126 mg/dL and 6.99 mmol/L of glucose agree). A value in words agrees only with the same words,
    which the caller compares."""
    if any(f.value_decimal is None and f.value_text for f in group):
        return False
    numbers = [f for f in group if f.value_decimal is not None]
    if len({f.unit for f in numbers}) < 2:  # in one unit, differing numbers differ (5 and 5.4 mg/L)
        return False
    values = [(f.value_decimal, point) for f in numbers if f.value_decimal is not None and (point := measure(f))]
    if len({unit for _written, (_value, unit) in values}) > 1:
        return False
    return same_measure((written, value) for written, (value, _unit) in values)


def normalized_reference(fact: ClinicalFact, bound: Decimal | None) -> Decimal | None:
    """A bound of the fact's reference range (in the unit the source wrote) in its series' unit,
    for the chart's band; None when it does not convert."""
    if bound is None or fact.value_normalized is None or fact.unit_normalized == fact.unit:
        return bound
    return normalize(code_system=fact.code_system, code=fact.code, value=bound, unit=fact.unit).value_normalized


def unit_note(fact: ClinicalFact) -> str:
    """Why the series of this fact is not compared with its test's other results, in plain words."""
    if fact.unit_flag == UnitFlag.UNCONVERTIBLE:
        return gettext("Measured in another unit (%(unit)s): not compared with the others.") % {"unit": fact.unit}
    if fact.unit_flag == UnitFlag.UNKNOWN_UNIT:
        if fact.series_unit == NO_UNIT:
            return gettext("Given without a unit: not compared with the others.")
        return gettext("Unit not recognised (%(unit)s): not compared with the others.") % {"unit": fact.unit}
    if fact.unit_flag == UnitFlag.IMPLAUSIBLE:
        return gettext(
            "This value is not plausible for this test in %(unit)s (probably a unit mistake in the source): "
            "kept as written, left out of the trend."
        ) % {"unit": fact.unit}
    return ""
