"""What a structured source yields, before anything is stored.

Parsers (apps/clinical/parsers/) turn the bytes of a FHIR bundle or a CDA
document into a ParsedDocument; the import pipeline checks the patient against
the record and stores the document's metadata and facts in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


class ParseError(Exception):
    """The content is not a document we can read. ``code`` names the reason for the person."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass
class PatientIdentity:
    family_name: str = ""
    given_names: str = ""
    birth_date: date | None = None
    sex: str = ""  # F, M, U or ""
    ins: str = ""  # the national identifier when present (OID 1.2.250.1.213.1.4.8 or .10)
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # (system, value)
    deceased: bool = False  # the source says the person died
    deceased_on: date | None = None


@dataclass
class ParsedFact:
    kind: str  # apps.clinical.models.FactKind value
    display: str
    code_system: str = ""
    code: str = ""
    status: str = ""
    effective_date: date | None = None
    effective_end: date | None = None
    value_decimal: Decimal | None = None
    value_text: str = ""
    unit: str = ""
    reference_low: Decimal | None = None
    reference_high: Decimal | None = None
    reference_text: str = ""
    interpretation: str = ""
    detail: str = ""
    code_known: bool = True
    assertion: str = "present"  # apps.clinical.models.FactAssertion value
    criticality: str = ""
    category: str = ""
    group_label: str = ""  # the report or panel grouping the result


@dataclass
class ParsedDocument:
    format: str  # "fhir", "cda"
    patient: PatientIdentity
    title: str = ""
    type_code: str = ""  # LOINC document type when known
    type_display: str = ""
    care_date: date | None = None
    author_name: str = ""
    author_profession: str = ""
    organisation: str = ""
    facts: list[ParsedFact] = field(default_factory=list)
    text: str = ""  # narrative text, for search
    embedded_pdf: bytes | None = None  # a nonXMLBody or B64 attachment
