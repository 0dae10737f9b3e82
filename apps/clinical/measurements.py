"""The measurements a person may declare, with their LOINC code, units and plausible ranges.

A declared value is checked against this table so that a typo (a weight of 700 kg, a
temperature in Fahrenheit) is refused with a message saying what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.access.refusals import Refused

LOINC = "http://loinc.org"


class FactRefused(Refused, ValueError):
    """A declared fact (or a change to one) that cannot be accepted; ``message`` says why."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message, field=field)
        self.record_uuid: UUID | None = None  # set when the refusal is about a known fact


@dataclass(frozen=True)
class UnitRange:
    unit: str  # UCUM code, as stored
    low: Decimal
    high: Decimal

    @property
    def label(self) -> str:
        return UNIT_LABELS.get(self.unit, self.unit)


@dataclass(frozen=True)
class KnownMeasurement:
    code: str
    display: str | Promise
    units: tuple[UnitRange, ...]

    def unit_range(self, unit: str) -> UnitRange | None:
        return next((r for r in self.units if r.unit == unit), None)


def _range(unit: str, low: str, high: str) -> UnitRange:
    return UnitRange(unit, Decimal(low), Decimal(high))


# How a UCUM code is written for a person, and the spellings people type for it.
UNIT_LABELS = {"mm[Hg]": "mmHg", "Cel": "°C", "kg/m2": "kg/m²", "/min": "/min"}
UNIT_ALIASES = {
    "mmhg": "mm[Hg]",
    "mm hg": "mm[Hg]",
    "°c": "Cel",
    "c": "Cel",
    "kg/m²": "kg/m2",
    "bpm": "/min",
    "mg/dl": "mg/dL",
    "mmol/l": "mmol/L",
}

MEASUREMENTS: dict[str, KnownMeasurement] = {
    m.code: m
    for m in (
        KnownMeasurement("29463-7", _("Weight"), (_range("kg", "0.3", "500"), _range("g", "300", "500000"))),
        KnownMeasurement("8302-2", _("Height"), (_range("cm", "20", "260"), _range("m", "0.2", "2.6"))),
        KnownMeasurement("8480-6", _("Systolic blood pressure"), (_range("mm[Hg]", "30", "300"),)),
        KnownMeasurement("8462-4", _("Diastolic blood pressure"), (_range("mm[Hg]", "20", "200"),)),
        KnownMeasurement("8867-4", _("Heart rate"), (_range("/min", "20", "300"),)),
        KnownMeasurement("8310-5", _("Body temperature"), (_range("Cel", "25", "45"),)),
        KnownMeasurement("2339-0", _("Blood glucose"), (_range("mg/dL", "10", "1500"), _range("mmol/L", "0.5", "85"))),
        KnownMeasurement(
            "4548-4", _("HbA1c (glycated haemoglobin)"), (_range("%", "2", "25"), _range("mmol/mol", "0", "250"))
        ),
        KnownMeasurement("39156-5", _("Body mass index (BMI)"), (_range("kg/m2", "5", "100"),)),
    )
}


def measurement_choices() -> list[tuple[str, str]]:
    return [(m.code, str(m.display)) for m in MEASUREMENTS.values()]


def unit_choices() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for measurement in MEASUREMENTS.values():
        for unit_range in measurement.units:
            seen.setdefault(unit_range.unit, unit_range.label)
    return list(seen.items())


def _number(value: Decimal) -> str:
    # normalize() alone would write 500 as 5E+2.
    return number_format(Decimal(f"{value.normalize():f}"), use_l10n=True)


def _printable(value: Decimal) -> bool:
    """Small enough to be written out in full: no measurement needs more than 15 digits."""
    return value.is_zero() or -15 <= value.adjusted() <= 15


def _or_list(labels: list[str]) -> str:
    if len(labels) == 1:
        return labels[0]
    return gettext("%(first)s or %(last)s") % {"first": ", ".join(labels[:-1]), "last": labels[-1]}


def normalise_unit(unit: str) -> str:
    cleaned = " ".join((unit or "").split())
    return UNIT_ALIASES.get(cleaned.casefold(), cleaned)


def as_decimal(value: object) -> Decimal | None:
    """A value typed by a person ("72,5" included) as a Decimal; None when it is not a number."""
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int | float):
        value = str(value)
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def measurement_check(*, code: str, value: object, unit: str) -> tuple[KnownMeasurement, Decimal, str]:
    """The measurement, value and (UCUM) unit when plausible; raises FactRefused otherwise."""
    measurement = MEASUREMENTS.get(code or "")
    if measurement is None:
        names = ", ".join(str(m.display) for m in MEASUREMENTS.values())
        raise FactRefused(
            gettext("This measurement cannot be declared here. Choose one of: %(names)s.") % {"names": names},
            field="code",
        )
    if value is None or value == "":
        raise FactRefused(gettext("Enter the measured value."), field="value")
    number = as_decimal(value)
    if number is None:
        raise FactRefused(gettext("The value must be a number, for example 72.5."), field="value")
    unit_code = normalise_unit(unit)
    unit_range = measurement.unit_range(unit_code)
    if unit_range is None:
        raise FactRefused(
            gettext("%(measurement)s is given in %(units)s, not in “%(unit)s”.")
            % {
                "measurement": measurement.display,
                "units": _or_list([r.label for r in measurement.units]),
                "unit": unit or "?",
            },
            field="unit",
        )
    if not unit_range.low <= number <= unit_range.high and not _printable(number):
        # 1e1000000 is a valid Decimal, but printing it overflows the decimal context.
        raise FactRefused(
            gettext("%(measurement)s: this value is not possible. Enter a value between %(low)s and %(high)s %(unit)s.")
            % {
                "measurement": measurement.display,
                "unit": unit_range.label,
                "low": _number(unit_range.low),
                "high": _number(unit_range.high),
            },
            field="value",
        )
    if not unit_range.low <= number <= unit_range.high:
        raise FactRefused(
            gettext(
                "%(measurement)s: %(value)s %(unit)s is not possible. "
                "Enter a value between %(low)s and %(high)s %(unit)s."
            )
            % {
                "measurement": measurement.display,
                "value": _number(number),
                "unit": unit_range.label,
                "low": _number(unit_range.low),
                "high": _number(unit_range.high),
            },
            field="value",
        )
    return measurement, number, unit_code
