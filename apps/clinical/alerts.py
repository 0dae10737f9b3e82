"""Which facts are alerts on the first screen, and why, in words.

Conditions are serious by their codes (ICD-10 / CIM-10 ranges, a few ICD-9-CM ones, SNOMED CT
ids: apps/clinical/data/serious_conditions.json, a small reviewed table). Words are only a
fallback for text that came without a code, and never raise an alert for a negated or "none
known" entry, or for text about screening or family history. Allergies are alerts with their
criticality, high first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from django.utils import translation
from django.utils.translation import gettext

from apps.clinical.models import FactAssertion, fold
from apps.clinical.naming import reader_language

DATA = Path(__file__).resolve().parent / "data" / "serious_conditions.json"
HIGH_CRITICALITY = frozenset({"high", "crith", "haute", "elevee", "eleve"})  # FHIR, HL7 v3, French sources


class FactLike(Protocol):
    code_system: str
    code: str
    display: str


@dataclass(frozen=True)
class _Range:
    start: str  # without dots, upper case
    end: str
    reason: str


@dataclass(frozen=True)
class _Table:
    systems: dict[str, str]  # code system → "icd10" / "icd9cm" / "snomed"
    reasons: dict[str, dict[str, str]]  # reason id → {language: text}
    ranges: dict[str, list[_Range]]  # "icd10" / "icd9cm" → ranges
    snomed: dict[str, str]  # concept id → reason id
    words: dict[str, re.Pattern[str]]  # reason id → the words of uncoded text
    not_about_the_person: re.Pattern[str]
    negation_before: re.Pattern[str]


def _pattern(terms: list[str]) -> re.Pattern[str]:
    """Terms at a word start; "diabet*" matches any ending, "hiv" only the whole word."""
    parts = []
    for term in terms:
        folded = fold(term)
        parts.append(re.escape(folded[:-1]) if folded.endswith("*") else re.escape(folded) + r"(?!\w)")
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")")


def _code(code: str) -> str:
    return code.replace(".", "").replace(" ", "").upper()


@cache
def _table() -> _Table:
    with DATA.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    systems = {system: family for family, uris in data["systems"].items() for system in uris}
    ranges = {
        family: [_Range(_code(row["from"]), _code(row["to"]), row["reason"]) for row in data[family]]
        for family in ("icd10", "icd9cm")
    }
    words = data["words"]
    return _Table(
        systems=systems,
        reasons=data["reasons"],
        ranges=ranges,
        snomed={code: row["reason"] for code, row in data["snomed"].items()},
        words={reason: _pattern(terms) for reason, terms in words["reasons"].items()},
        not_about_the_person=_pattern(words["not_about_the_person"]),
        negation_before=_pattern(words["negation_or_doubt_before"]),
    )


def _in_range(code: str, ranges: list[_Range]) -> str | None:
    for row in ranges:
        head = code[: len(row.start)]
        if len(head) == len(row.start) and row.start <= head <= row.end:
            return row.reason
    return None


def _coded_reason(code_system: str, code: str) -> str | None:
    table = _table()
    family = table.systems.get(code_system.strip())
    if family is None or not code.strip():
        return None
    if family == "snomed":
        return table.snomed.get(code.strip())
    return _in_range(_code(code), table.ranges[family])


def _worded_reason(text: str) -> str | None:
    table = _table()
    folded = fold(text)
    if table.not_about_the_person.search(folded):
        return None
    for reason, words in table.words.items():
        for found in words.finditer(folded):
            if not table.negation_before.search(folded[: found.start()]):
                return reason
    return None


def serious_reason_id(fact: FactLike) -> str | None:
    """The table's reason id (``"diabetes"``…) when the fact is a serious condition, else None."""
    if getattr(fact, "assertion", FactAssertion.PRESENT) != FactAssertion.PRESENT:
        return None  # "no diabetes", "no known problems": information, never an alert
    if getattr(fact, "code_known", True) and fact.code and coded_in_table_system(fact.code_system or ""):
        # A fact coded in ICD or SNOMED CT is judged by its code only: a code outside the table is
        # not serious, whatever its words say (a coded "cancer screening" is no cancer).
        return _coded_reason(fact.code_system or "", fact.code)
    # Uncoded text, or a code system the table does not cover (a local French code): the words,
    # with their guards.
    return _worded_reason(fact.display or "")


def coded_in_table_system(code_system: str) -> bool:
    return code_system.strip() in _table().systems


def serious_reason(fact: FactLike, *, language: str | None = None) -> str | None:
    """Why a condition is an alert, in plain words in the reader's language, or None."""
    reason = serious_reason_id(fact)
    if reason is None:
        return None
    texts = _table().reasons[reason]
    return texts.get(reader_language(language)) or texts["en"]


def is_high_criticality(criticality: str) -> bool:
    return fold(criticality) in HIGH_CRITICALITY


def allergy_risk_label(criticality: str, *, language: str | None = None) -> str:
    """The words an allergy alert carries: "high risk" for a high criticality, else nothing."""
    if not is_high_criticality(criticality):
        return ""
    if language:
        with translation.override(language):
            return gettext("high risk")
    return gettext("high risk")


def allergies_first_by_risk(lines: list[Any]) -> list[Any]:
    """Allergy lines, high criticality first; the order among equals is kept."""
    return sorted(lines, key=lambda line: not is_high_criticality(getattr(line, "criticality", "") or ""))
