"""Names and numbers a person reads: a short test name in the reader's language, values in the
reader's conventions.

The source's own text (``display``) is never replaced in storage or in the API: the short name
(``name``) is shown beside the code, which stays for professionals and software.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.formats import get_format
from django.utils.translation import gettext

DATA = Path(__file__).resolve().parent / "data" / "test_names.json"
LOINC_SYSTEMS = frozenset({"http://loinc.org", "urn:oid:2.16.840.1.113883.6.1", "2.16.840.1.113883.6.1"})

# Decimals shown: two for values of 1 and more (170.2 cm, 7.67 pg/mL), three significant digits
# below 1 (0.005 mUI/L stays 0.005); then trailing zeros dropped, so a value reads the same on
# every screen whatever precision it was stored with (170.2, 170.20 and 170.200 are one value).
MAX_DECIMALS = 2
SMALL_SIGNIFICANT = 3
SMALL_MAX_DECIMALS = 6  # the precision of ClinicalFact.value_decimal


@cache
def _names() -> dict[str, dict[str, str]]:
    with DATA.open(encoding="utf-8") as handle:
        return json.load(handle)["names"]


def reader_language(language: str | None = None) -> str:
    """ "fr-fr", "fr_FR" and "fr" alike; the site's default when none is active."""
    code = language or translation.get_language() or settings.LANGUAGE_CODE
    return code.replace("_", "-").split("-")[0].lower()


def known_name(*, code_system: str, code: str, language: str | None = None) -> str | None:
    """The short name of a LOINC test in the language, or None when the table does not know it."""
    if not code or code_system not in LOINC_SYSTEMS:
        return None
    names = _names().get(code.strip())
    if names is None:
        return None
    return names.get(reader_language(language))


def display_name(*, code_system: str, code: str, display: str, language: str | None = None) -> str:
    """The name a person reads: the short name in their language when the code is known, else
    the source's own text (never a guess). ``language`` defaults to the active one."""
    return known_name(code_system=code_system, code=code, language=language) or display


def rounded(number: Decimal) -> Decimal:
    """The value as shown (see MAX_DECIMALS), without trailing zeros."""
    if not number.is_finite():
        return number
    if number == 0:
        return Decimal(0)
    # adjusted() is the exponent of the first significant digit (-3 for 0.005).
    small = min(SMALL_MAX_DECIMALS, -number.adjusted() + SMALL_SIGNIFICANT - 1)
    places = MAX_DECIMALS if abs(number) >= 1 else small
    value = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP).normalize()
    # normalize() writes 3900 as 3.9E+3: back to plain digits, no exponent.
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def format_number(number: Decimal | None, *, language: str | None = None) -> str:
    """A number in the reader's conventions (decimal comma in French), the same text everywhere."""
    if number is None:
        return ""
    text = f"{rounded(number):f}"
    separator = get_format("DECIMAL_SEPARATOR", lang=reader_language(language), use_l10n=True)
    return text.replace(".", str(separator))


def value_label(*, number: Decimal | None, text: str = "", unit: str = "", language: str | None = None) -> str:
    """A value with its unit as a person reads it ("170,2 cm"), or "" when the source gave none."""
    value = format_number(number, language=language) if number is not None else (text or "").strip()
    if not value:
        return ""
    return f"{value} {unit}".strip() if unit else value


# A result the source lists before it is known (C-CDA statusCode "active", FHIR "registered"...).
PENDING_STATUSES = frozenset({"active", "new", "held", "registered", "preliminary", "en cours", "en attente"})


def no_value_label(status: str = "") -> str:
    """What a result without a value says, instead of an empty cell: pending when the source says
    the result is not known yet, else that the value is in the document."""
    if (status or "").strip().casefold() in PENDING_STATUSES:
        return gettext("result not known yet")
    return gettext("result in the document")
