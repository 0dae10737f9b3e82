"""Units of results: each numeric result keeps its value and unit as the source wrote them, and
gets a value in its test's canonical unit (UCUM) for trends, charts and comparisons.

Units are read with ``ucumvert`` (the UCUM grammar on top of ``pint``): a few spellings that sources
write but UCUM does not (mmHg, µmol/L, UI/L, G/L...) are mapped to UCUM first. The tests, their
canonical units, molar masses (mass ↔ substance concentration) and plausible ranges are in
data/analytes.json. What cannot be converted is never guessed: it starts its own series, flagged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apps.clinical.models import FactKind

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pint import Quantity

    from apps.clinical.models import ClinicalFact

DATA_FILE = Path(__file__).resolve().parent / "data" / "analytes.json"
LOINC_SYSTEMS = frozenset({"http://loinc.org", "2.16.840.1.113883.6.1", "loinc", "ln"})
UNIT_MAX = 50  # ClinicalFact.unit, unit_normalized and series_unit columns
NO_UNIT = "{no unit}"  # the series of a known test's values given without a unit
_LIMIT = Decimal("1e14")  # what numeric(20, 6) holds
_SIX_PLACES = Decimal("0.000001")


class UnitFlag(StrEnum):
    UNCONVERTIBLE = "unconvertible"  # a real unit of another dimension than the test's: its own series
    UNKNOWN_UNIT = "unknown_unit"  # not a unit we can read (or none given): its own series
    IMPLAUSIBLE = "implausible"  # converted, but no patient has that value: a unit mistake, kept out of the trend


@dataclass(frozen=True)
class Normalized:
    """What a result's value is in its series' unit, and which series it belongs to."""

    value_normalized: Decimal | None
    unit_normalized: str  # UCUM; the canonical unit of the test when converted
    series_unit: str = ""  # non-empty: a separate series (never compared with the test's other results)
    unit_flag: str = ""  # a UnitFlag, or "" when the result joins its test's series


@dataclass(frozen=True)
class Analyte:
    name: str
    unit: str
    plausible: tuple[Decimal, Decimal] | None = None
    molar_mass: float | None = None
    charge: int | None = None
    equivalent_units: tuple[tuple[str, str], ...] = ()
    not_convertible: frozenset[str] = frozenset()


# Spellings UCUM would read as something else (G is the gauss, C the coulomb): replaced before reading.
_TRAPS = {"G/L": "10*9/L", "T/L": "10*12/L", "C": "Cel", "F": "[degF]", "mmHg": "mm[Hg]"}
# Spellings that are not UCUM (or not its usual case), compared without case.
_SPELLINGS = {
    "mm hg": "mm[Hg]",
    "mmhg": "mm[Hg]",
    "cmh2o": "cm[H2O]",
    "°c": "Cel",
    "degc": "Cel",
    "deg c": "Cel",
    "celsius": "Cel",
    "°f": "[degF]",
    "degf": "[degF]",
    "deg f": "[degF]",
    "fahrenheit": "[degF]",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "pound": "[lb_av]",
    "pounds": "[lb_av]",
    "oz": "[oz_av]",
    "in": "[in_i]",
    "inch": "[in_i]",
    "inches": "[in_i]",
    "ft": "[ft_i]",
    "bpm": "/min",
    "beats/min": "/min",
    "battements/min": "/min",
    "/mn": "/min",
    "iu/l": "[IU]/L",
    "ui/l": "[IU]/L",
    "miu/l": "m[IU]/L",
    "mui/l": "m[IU]/L",
    "uiu/ml": "u[IU]/mL",
    "uui/ml": "u[IU]/mL",
    "iu/ml": "[IU]/mL",
    "ui/ml": "[IU]/mL",
    "mmol/l": "mmol/L",
    "umol/l": "umol/L",
    "nmol/l": "nmol/L",
    "pmol/l": "pmol/L",
    "mg/dl": "mg/dL",
    "g/dl": "g/dL",
    "mg/l": "mg/L",
    "meq/l": "meq/L",
    "giga/l": "10*9/L",
    "tera/l": "10*12/L",
    "/ul": "/uL",
    "cells/ul": "/uL",
    "/mm³": "/mm3",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1,73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73 m2": "mL/min/{1.73_m2}",
    "ml/min/1,73 m2": "mL/min/{1.73_m2}",
    "ml/mn/1.73m2": "mL/min/{1.73_m2}",
    "ml/mn/1,73m2": "mL/min/{1.73_m2}",
}
# "x10^9/L", "10E9/L", "x 10*9/l": a power of ten per volume.
_POWER = re.compile(r"^x?\s*10\s*(?:\^|\*|e|\*\*)\s*(\d+)\s*/\s*([a-z]+)$", re.IGNORECASE)
_VOLUMES = {"l": "L", "ul": "uL", "ml": "mL", "dl": "dL", "mm3": "mm3"}


def _clean(unit: str) -> str:
    text = " ".join((unit or "").split())
    return text.replace("µ", "u").replace("μ", "u").replace("²", "2").replace("³", "3")


@cache
def _reader() -> tuple[Any, Any]:
    """The UCUM parser and the transformer to pint, built once (about a second)."""
    from ucumvert import UcumToPintTransformer, get_ucum_parser

    return get_ucum_parser(), UcumToPintTransformer()


@lru_cache(maxsize=512)
def _quantity(ucum: str) -> Quantity | None:
    """The unit as a pint quantity (its magnitude is the unit's factor, as in "10*9/L"); None when
    UCUM cannot read it."""
    from lark.exceptions import LarkError
    from pint.errors import PintError

    parser, transformer = _reader()
    try:
        result = transformer.transform(parser.parse(ucum))
    except (LarkError, PintError, AttributeError, TypeError, ValueError):
        return None
    if not hasattr(result, "units"):  # an annotation alone ("{score}") is the unity
        result = transformer.ureg("dimensionless") * 1
    return result


def ucum_unit(unit: str) -> str | None:
    """The UCUM code of a unit as a source wrote it; "" for no unit; None when it is not a unit we read."""
    text = _clean(unit)
    if not text:
        return ""
    text = _TRAPS.get(text, text)
    folded = text.casefold()
    if folded in _SPELLINGS:  # first: "mmol/l" is UCUM too, but one spelling makes one series
        return _SPELLINGS[folded]
    if _quantity(text) is not None:
        return text
    power = _POWER.match(text)
    if power and power.group(2).casefold() in _VOLUMES:
        return f"10*{power.group(1)}/{_VOLUMES[power.group(2).casefold()]}"
    return None


@cache
def _analytes() -> dict[str, Analyte]:
    """Each LOINC code of data/analytes.json with its test."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    by_code: dict[str, Analyte] = {}
    for name, entry in data["analytes"].items():
        plausible = entry.get("plausible")
        analyte = Analyte(
            name=name,
            unit=entry["unit"],
            plausible=(Decimal(str(plausible[0])), Decimal(str(plausible[1]))) if plausible else None,
            molar_mass=entry.get("molar_mass"),
            charge=entry.get("charge"),
            equivalent_units=tuple(entry.get("equivalent_units", {}).items()),
            not_convertible=frozenset(entry.get("not_convertible", ())),
        )
        for code in entry["loinc"]:
            by_code[code] = analyte
    return by_code


def analyte_for(code_system: str, code: str) -> Analyte | None:
    if not code or (code_system or "").strip().casefold() not in LOINC_SYSTEMS:
        return None
    return _analytes().get(code.strip())


def _fits(value: float | Decimal) -> Decimal | None:
    """Rounded to the columns' 6 decimals; None when it cannot be stored."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= _LIMIT:
        return None
    return number.quantize(_SIX_PLACES)


def _converted(value: Decimal, source: str, target: str, analyte: Analyte | None) -> Decimal | None:
    """``value`` in ``source`` (UCUM) expressed in ``target`` (UCUM); None when the two do not convert."""
    from pint.errors import PintError

    if source == target:
        return value
    if analyte is not None and source in analyte.not_convertible:
        return None
    source_q, target_q = _quantity(source), _quantity(target)
    if source_q is None or target_q is None:
        return None
    # Built from the magnitude, not by multiplying: offset units (Cel, [degF]) cannot be multiplied.
    amount = type(source_q)(float(value) * source_q.magnitude, source_q.units)
    if not amount.is_compatible_with(target_q.units) and analyte is not None and analyte.molar_mass:
        molar_mass = type(source_q)(analyte.molar_mass, "g/mol")
        for candidate in (amount / molar_mass, amount * molar_mass):  # mass → substance, substance → mass
            if candidate.is_compatible_with(target_q.units):
                amount = candidate
                break
    try:
        result = amount.to(target_q.units).magnitude / target_q.magnitude
    except (PintError, ZeroDivisionError, ValueError):
        return None
    if analyte is not None and analyte.charge and "eq" in source and "eq" not in target:
        result /= analyte.charge  # pint counts an equivalent as a mole; a divalent ion has two per mole
    return _fits(result)


def convert(value: Decimal, from_unit: str, to_unit: str, *, code_system: str = "", code: str = "") -> Decimal | None:
    """``value`` written in ``from_unit`` expressed in ``to_unit`` (both as written or UCUM); None when it
    does not convert. With the test's code, a mass and a molar concentration convert through its molar mass."""
    source, target = ucum_unit(from_unit), ucum_unit(to_unit)
    if source is None or target is None:
        return None
    if source == "" or target == "":
        return value if source == target else None
    return _converted(value, source, target, analyte_for(code_system, code))


def normalize(*, code_system: str, code: str, value: Decimal | None, unit: str) -> Normalized:
    """The value of a result in its series' unit, and which series it belongs to (see Normalized)."""
    analyte = analyte_for(code_system, code)
    written = _clean(unit)[:UNIT_MAX]
    source = ucum_unit(unit)
    if value is None:  # a result in words: nothing to convert, never its own series
        return Normalized(value_normalized=None, unit_normalized=source or "")
    if source is None:
        return Normalized(value, written, series_unit=written, unit_flag=UnitFlag.UNKNOWN_UNIT)
    if analyte is None:
        # A test we have no entry for: its unit as UCUM writes it; results in other units are compared
        # in the unit of the latest one when they convert (apps/summaries/builder.py), never guessed.
        return Normalized(value, source[:UNIT_MAX])
    if not source:
        return Normalized(value, "", series_unit=NO_UNIT, unit_flag=UnitFlag.UNKNOWN_UNIT)
    source = dict(analyte.equivalent_units).get(source, source)
    converted = _converted(value, source, analyte.unit, analyte)
    if converted is None:
        return Normalized(value, source[:UNIT_MAX], series_unit=source[:UNIT_MAX], unit_flag=UnitFlag.UNCONVERTIBLE)
    if analyte.plausible is not None and not analyte.plausible[0] <= converted <= analyte.plausible[1]:
        return Normalized(converted, analyte.unit, series_unit=source[:UNIT_MAX], unit_flag=UnitFlag.IMPLAUSIBLE)
    return Normalized(converted, analyte.unit)


def fact_units_fill(fact: ClinicalFact) -> ClinicalFact:
    """Set a fact's normalised value, unit, series and flag from its value and unit (results only)."""
    if fact.kind == FactKind.OBSERVATION:
        result = normalize(code_system=fact.code_system, code=fact.code, value=fact.value_decimal, unit=fact.unit)
    else:
        result = Normalized(value_normalized=None, unit_normalized="")
    fact.value_normalized = result.value_normalized
    fact.unit_normalized = result.unit_normalized
    fact.series_unit = result.series_unit
    fact.unit_flag = result.unit_flag
    return fact


def _significant(value: Decimal) -> int:
    """Digits a source gave: those of the integer part (126: 3) and of the decimals it wrote (6.99: 3)."""
    text = f"{abs(value).normalize():f}"
    whole, _dot, decimals = text.partition(".")
    whole = whole.lstrip("0")
    return len(whole) + len(decimals) if whole else max(len(decimals.lstrip("0")), 1)


def same_measure(values: Iterable[tuple[Decimal, Decimal]]) -> bool:
    """Whether results of one test and day given in different units say the same value: pairs of (value
    as written, value in the canonical unit), compared at the precision of the least precise source
    (126 mg/dL and 6.99 mmol/L agree; 126 and 128 mg/dL do not)."""
    pairs = list(values)
    if len(pairs) < 2:
        return True
    digits = min(_significant(written) for written, _normalized in pairs)
    rounded = set()
    for _written, normalized in pairs:
        if normalized.is_zero():
            rounded.add(Decimal(0))
            continue
        places = digits - normalized.adjusted() - 1  # negative: rounded to tens, hundreds...
        rounded.add(normalized.quantize(Decimal(1).scaleb(-places)))
    return len(rounded) == 1
