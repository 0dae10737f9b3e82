"""The date of care a PDF states about itself: a labelled date on its first page, or a metadata
field that explicitly names the date of care.

Pure functions, no database. Only a date that the document labels as the date of the care is
taken ("Date de l'examen : 12/03/2024", "Date of visit: March 12, 2024", "prélevé le 12.03.2024"):
never the first date found, never a birth date ("né(e) le", "date de naissance", "DOB") nor the
date a file was printed or edited ("édité le", "imprimé le"). A wrong date would sort the document
among the wrong care and look as true as a right one; no date lets the person set it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# How a label and its date may be joined: "Date de l'examen : le 12/03/2024", "Collected on 2024-03-12".
_JOIN = r"\s*(?:[:\-]\s*)?(?:(?:le|du|en date du|on)\s+)?"

_WEEKDAYS = (
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
)
_MONTHS: dict[str, int] = {
    # French (folded: no accents), then English; abbreviations with or without their dot.
    "janvier": 1,
    "janv": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

# One alternative per way of writing a date; the named groups say which.
_DATE = (
    rf"(?:(?:{_WEEKDAYS})\.?,?\s+)?"
    r"(?:"
    r"(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})(?!\d)"
    r"|(?P<num_a>\d{1,2})(?P<num_sep>[/.\-])(?P<num_b>\d{1,2})(?P=num_sep)(?P<num_y>\d{4}|\d{2})(?!\d)"
    rf"|(?P<dmy_d>\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?:of\s+)?(?P<dmy_m>{_MONTH}),?\s+(?P<dmy_y>\d{{4}})(?!\d)"
    rf"|(?P<mdy_m>{_MONTH})\s+(?P<mdy_d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<mdy_y>\d{{4}})(?!\d)"
    r")"
)


@dataclass(frozen=True)
class _Label:
    pattern: re.Pattern[str]
    language: str  # "fr" or "en": how an ambiguous numeric date is read
    rank: int  # lower first: the care itself, then the stay's end, then a report's heading date


def _label(pattern: str, language: str, rank: int = 1) -> _Label:
    return _Label(re.compile(rf"\b(?:{pattern}){_JOIN}{_DATE}"), language, rank)


# Labels as written on French and English reports, folded (lower case, no accents, straight apostrophes).
_LABELS: tuple[_Label, ...] = (
    _label(r"date (?:de l'|d'|des |de )examens?", "fr"),
    _label(r"date (?:de (?:la )?|d')consultation", "fr"),
    _label(r"date (?:du |de |des )prelevements?", "fr"),
    _label(r"prelev(?:e|ee|es|ees|e\(e\)|ement)", "fr"),  # "prélevé le", "prélèvement du"
    _label(
        r"date (?:de l'|d'|de la |du |de )(?:intervention|operation|hospitalisation|admission|entree|acte|"
        r"echographie|imagerie|radiographie|realisation|visite|vaccination|seance)",
        "fr",
    ),
    _label(r"date (?:des |de )soins", "fr"),
    _label(
        r"(?:examen|consultation|intervention|hospitalisation|visite|vaccination)"
        r" (?:realisee?|effectuee?|pratiquee?)",
        "fr",
    ),
    _label(r"(?:consultation|examen|intervention|hospitalisation|visite) (?=du |le )", "fr"),
    _label(
        r"date of (?:visit|service|exam|examination|consultation|procedure|surgery|encounter|admission|"
        r"collection|care|vaccination|immunization)",
        "en",
    ),
    _label(
        r"(?:visit|service|exam|examination|procedure|surgery|encounter|admission|collection|consultation) date",
        "en",
    ),
    _label(r"(?:specimen |sample )?collected|date collected", "en"),
    _label(r"date de sortie", "fr", rank=2),
    _label(r"date of discharge|discharge date", "en", rank=2),
    # A report's heading date: "Compte rendu de consultation du Dr X le 12 mars 2024". No digit may
    # stand between (the first date after the heading, or none), and no birth or print words.
    _label(r"compte[ -]rendu[^0-9]{0,80}?", "fr", rank=3),
)

# Words that make a date someone's birth, or the day a file was printed or edited, never the care.
_NOT_CARE = re.compile(
    r"\bnee?s?\b|\bne\(e\)|naissance|\bddn\b|\bdob\b|birth|\bborn\b|"
    r"edite|edition|imprime|impression|print|generated|genere|\bexport"
)

_MONTH_FIRST_HINTS = {"en-us"}
_DAY_FIRST_HINTS = {"en-gb", "en-ie", "en-au", "en-nz"}


def _fold(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u02bc", "'")
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def _year(raw: str, today: date) -> int:
    if len(raw) == 4:
        return int(raw)
    # A two-digit year ("12/03/24"): this century unless that would be in the future.
    year = 2000 + int(raw)
    return year if year <= today.year else year - 100


def _make(year: int, month: int, day: int, today: date) -> date | None:
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    # A date of care is in the past and within a lifetime of records.
    return found if date(1900, 1, 1) <= found <= today else None


def _numeric(a: int, b: int, year: int, *, sep: str, language: str, hints: set[str], today: date) -> date | None:
    """A numeric date such as 03/04/2024: day first in French and with dots or dashes; for an
    English label with slashes, month first in US English. When the order cannot be told (both
    parts 12 or less and no hint), no date rather than a guess."""
    if language == "fr" or sep != "/" or hints & _DAY_FIRST_HINTS:
        return _make(year, b, a, today)
    if hints & _MONTH_FIRST_HINTS:
        return _make(year, a, b, today)
    if a > 12:
        return _make(year, b, a, today)
    if b > 12:
        return _make(year, a, b, today)
    return None


def _date_of(match: re.Match[str], language: str, hints: set[str], today: date) -> date | None:
    groups = match.groupdict()
    if groups["iso_y"]:
        return _make(int(groups["iso_y"]), int(groups["iso_m"]), int(groups["iso_d"]), today)
    if groups["num_a"]:
        year = _year(groups["num_y"], today)
        a, b = int(groups["num_a"]), int(groups["num_b"])
        return _numeric(a, b, year, sep=groups["num_sep"], language=language, hints=hints, today=today)
    if groups["dmy_d"]:
        month = _MONTHS[groups["dmy_m"].rstrip(".")]
        return _make(int(groups["dmy_y"]), month, int(groups["dmy_d"]), today)
    if groups["mdy_m"]:
        month = _MONTHS[groups["mdy_m"].rstrip(".")]
        return _make(int(groups["mdy_y"]), month, int(groups["mdy_d"]), today)
    return None


def care_date_from_text(
    text: str, *, languages: Sequence[str] = ("fr", "en"), today: date | None = None
) -> date | None:
    """The date of care a document's first page states under a label, or None.

    ``languages``: which labels to look for ("fr", "en"); a regional hint ("en-US", "en-GB") also
    says how to read an English numeric date whose order is ambiguous (otherwise none is taken).
    Labels of the care itself come first (exam, visit, collection), then the end of a stay, then
    a report heading's date; within one kind, the first on the page.
    """
    today = today or date.today()
    hints = {language.lower() for language in languages}
    wanted = {hint.split("-")[0] for hint in hints}
    folded = _fold(text)
    for rank in sorted({label.rank for label in _LABELS}):
        found: list[tuple[int, date]] = []
        for label in _LABELS:
            if label.rank != rank or label.language not in wanted:
                continue
            for match in label.pattern.finditer(folded):
                if _NOT_CARE.search(match.group(0)):
                    continue  # a birth or print date under a word our label also matched
                day = _date_of(match, label.language, hints, today)
                if day is not None:
                    found.append((match.start(), day))
                    break
        if found:
            return min(found)[1]
    return None


# --- PDF metadata ----------------------------------------------------------------------------
#
# Only a field whose name says "date of care" (a custom document-information key, or an XMP
# property of the same name in any namespace). Never CreationDate / ModDate, nor XMP's CreateDate,
# ModifyDate or MetadataDate: they say when the file was made or changed (often the day it was
# printed or scanned), not when the care took place.

# Information-dictionary keys read from a PDF (keys are case-sensitive: the usual spellings).
METADATA_KEYS: tuple[str, ...] = (
    "CareDate",
    "DateOfCare",
    "DateOfService",
    "ServiceDate",
    "EncounterDate",
    "VisitDate",
    "ExamDate",
    "DateDeSoins",
    "DateSoins",
    "DateDesSoins",
    "DateExamen",
    "DateActe",
    "DatePrelevement",
    "CollectionDate",
)
_METADATA_NAMES = frozenset(re.sub(r"[^a-z]", "", key.lower()) for key in METADATA_KEYS)
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})(\d{2})|^(\d{4})-(\d{2})-(\d{2})(?:T|\s|$)")
_XMP_START, _XMP_END = b"<x:xmpmeta", b"</x:xmpmeta>"
_XMP_MAX_BYTES = 256 * 1024


def _metadata_name(name: str) -> str:
    local = name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
    return re.sub(r"[^a-z]", "", local.lower())


def _metadata_value(value: str, today: date) -> date | None:
    value = value.strip()
    if match := _PDF_DATE.match(value):  # "D:20240312…" (a PDF date), "20240312", "2024-03-12T10:00+01:00"
        year, month, day = (int(part) for part in match.groups() if part is not None)
        return _make(year, month, day, today)
    if match := re.fullmatch(_DATE, _fold(value)):
        return _date_of(match, "fr", set(), today)  # numeric dates read day first, ISO as is
    return None


def xmp_packet(data: bytes) -> bytes | None:
    """The XMP packet of a PDF, when it is stored uncompressed (as the XMP specification asks, so
    that tools can find it without parsing the PDF); None otherwise."""
    start = data.find(_XMP_START)
    if start < 0:
        return None
    end = data.find(_XMP_END, start, start + _XMP_MAX_BYTES)
    return data[start : end + len(_XMP_END)] if end >= 0 else None


def _xmp_values(packet: bytes) -> list[tuple[str, str]]:
    try:
        # No DTD, no entities: the packet is untrusted input like the rest of the file.
        root = fromstring(packet, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SyntaxError, ValueError):
        return []
    values: list[tuple[str, str]] = []
    for element in root.iter():
        values.extend((name, value) for name, value in element.attrib.items())
        if element.text and element.text.strip() and not len(element):
            values.append((element.tag, element.text))
    return values


def care_date_from_metadata(
    info: Mapping[str, str], xmp: bytes | None = None, *, today: date | None = None
) -> date | None:
    """The date of care a PDF's metadata states under a name that says so, or None."""
    today = today or date.today()
    fields = [*info.items(), *(_xmp_values(xmp) if xmp else [])]
    for name, value in fields:
        if _metadata_name(name) in _METADATA_NAMES and (day := _metadata_value(str(value), today)):
            return day
    return None


@dataclass(frozen=True)
class StatedCareDate:
    day: date
    source: str  # apps.records.models.CareDateSource: "pdf_metadata" or "text"


def care_date_of_pdf(
    *, first_page_text: str, info: Mapping[str, str], xmp: bytes | None, today: date | None = None
) -> StatedCareDate | None:
    """What a PDF says of its date of care: an explicit metadata field first, else its first page."""
    if day := care_date_from_metadata(info, xmp, today=today):
        return StatedCareDate(day, "pdf_metadata")
    if day := care_date_from_text(first_page_text, today=today):
        return StatedCareDate(day, "text")
    return None
