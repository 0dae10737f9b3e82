"""Helpers shared by the FHIR and CDA parsers: dates, numbers, code systems, fact building."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from apps.clinical.parsing import ParsedFact

# The national health identifier (INS-NIR, and its test OID used by the ANS examples).
INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.10")

# CDA names code systems by OID, FHIR by URI: the well-known ones are stored as the FHIR
# URI so that a fact from either source carries the same (system, code) pair.
OID_TO_URI = {
    "2.16.840.1.113883.6.1": "http://loinc.org",
    "2.16.840.1.113883.6.96": "http://snomed.info/sct",
    "2.16.840.1.113883.6.88": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "2.16.840.1.113883.12.292": "http://hl7.org/fhir/sid/cvx",
    "2.16.840.1.113883.6.3": "http://hl7.org/fhir/sid/icd-10",
    "2.16.840.1.113883.6.90": "http://hl7.org/fhir/sid/icd-10-cm",
    "2.16.840.1.113883.6.103": "http://hl7.org/fhir/sid/icd-9-cm",
    "2.16.840.1.113883.6.104": "http://hl7.org/fhir/sid/icd-9-cm",
    "2.16.840.1.113883.6.73": "http://www.whocc.no/atc",
    "2.16.840.1.113883.6.8": "http://unitsofmeasure.org",
    "2.16.840.1.113883.5.83": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
}

# Column sizes of apps.clinical.models.ClinicalFact: clipping here means the pipeline can
# store any parsed fact as is (an over-long free text is shortened, the fact is kept).
_FACT_LIMITS = {
    "display": 500,
    "code_system": 200,
    "code": 100,
    "status": 50,
    "value_text": 500,
    "unit": 50,
    "reference_text": 200,
    "interpretation": 50,
    "detail": 500,
    "criticality": 20,
    "category": 100,
    "group_label": 300,
}

_SPACES = re.compile(r"\s+")


def collapse(text: str | None) -> str:
    """Whitespace-collapsed text (narratives are indented XML)."""
    return _SPACES.sub(" ", text or "").strip()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def code_system_uri(oid_or_uri: str | None) -> str:
    if not oid_or_uri:
        return ""
    if oid_or_uri in OID_TO_URI:
        return OID_TO_URI[oid_or_uri]
    if re.fullmatch(r"[0-2](\.\d+)+", oid_or_uri):
        return f"urn:oid:{oid_or_uri}"
    return oid_or_uri


def to_decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def partial_date(text: str) -> date | None:
    """A date from 'YYYY', 'YYYY-MM', 'YYYY-MM-DD...' or 'YYYYMMDD...' (FHIR or HL7 v3 TS).

    A year or month precision date becomes the first day of that period: the interface has
    one date type, and a rough date is more useful to the person than none.
    """
    digits = re.match(r"(\d{4})-?(\d{2})?-?(\d{2})?", text.strip())
    if not digits:
        return None
    year, month, day = (int(part) if part else 1 for part in digits.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def as_date(value: object) -> date | None:
    """FHIR date-like values: datetime (the local date as written), date, or a partial string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return partial_date(value)
    return None


def sex_code(value: str | None) -> str:
    return {"female": "F", "f": "F", "male": "M", "m": "M"}.get((value or "").lower(), "U" if value else "")


def make_fact(**values: object) -> ParsedFact:
    """A ParsedFact with texts collapsed and clipped to the storage limits."""
    for name, limit in _FACT_LIMITS.items():
        if name in values:
            values[name] = clip(collapse(str(values[name] or "")), limit)
    return ParsedFact(**values)  # type: ignore[arg-type]


_KIND_LABELS = (
    ("allergy", "Allergies"),
    ("condition", "Conditions"),
    ("medication", "Medications"),
    ("immunization", "Immunizations"),
    ("observation", "Observations"),
    ("procedure", "Procedures"),
)


def facts_summary(facts: list[ParsedFact]) -> str:
    """A short plain text naming the facts by kind, for search."""
    parts = []
    for kind, label in _KIND_LABELS:
        names = list(dict.fromkeys(fact.display for fact in facts if fact.kind == kind and fact.display))
        if names:
            parts.append(f"{label}: {', '.join(names)}.")
    return " ".join(parts)


def latest_date(dates: list[date | None]) -> date | None:
    known = [value for value in dates if value is not None]
    return max(known) if known else None


# --- "no known ..." codes (apps/clinical/data/no_known_codes.json) ---------------------------

_NO_KNOWN_FILE = Path(__file__).resolve().parent.parent / "data" / "no_known_codes.json"


@cache
def _no_known_tables() -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    data = json.loads(_NO_KNOWN_FILE.read_text(encoding="utf-8"))
    none_known = {(row["system"], row["code"]): row["label"] for row in data["none_known"]}
    any_substance = {(row["system"], row["code"]): row["label"] for row in data["any_substance"]}
    return none_known, any_substance


def no_known_label(system: str, code: str) -> str:
    """The readable statement ("No known allergies") of a code that says none of its kind is
    known (IPS absent-unknown, SNOMED CT situations), or "" for any other code. ``system`` is a
    URI: convert CDA OIDs with ``code_system_uri`` first."""
    return _no_known_tables()[0].get((system, code), "")


def negated_substance_label(system: str, code: str) -> str:
    """For a refuted or negated allergy whose allergen is a generic class ("Substance", "Allergy
    to substance"): the "No known allergies" statement it really makes, else ""."""
    return _no_known_tables()[1].get((system, code), "")
