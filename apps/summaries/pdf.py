"""The patient summary as a PDF (WeasyPrint), with the sections of the International Patient Summary.

The section names and order follow the IPS (HL7 FHIR IPS implementation guide)
so the printed summary and the FHIR ``Patient/{id}/$summary`` document agree:
allergies and intolerances, problem list, medication summary, immunizations,
results. The alerts (allergies and serious conditions) come first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.clinical.models import FactKind
from apps.clinical.naming import format_number
from apps.summaries.builder import ResultSeries, Summary, SummaryLine

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# IPS section: (anchor, title, LOINC section code). The codes are those of the IPS composition.
SECTION_ALERTS = ("alerts", gettext_lazy("Alerts"), "")
SECTION_ALLERGIES = ("allergies", gettext_lazy("Allergies and intolerances"), "48765-2")
SECTION_PROBLEMS = ("problems", gettext_lazy("Problem list"), "11450-4")
SECTION_MEDICATIONS = ("medications", gettext_lazy("Medication summary"), "10160-0")
# Medications no document re-confirmed lately (apps/clinical/status.py): listed apart, never as current.
SECTION_POSSIBLY_STOPPED = ("possibly-stopped", gettext_lazy("Medications possibly no longer taken"), "10160-0")
SECTION_IMMUNIZATIONS = ("immunizations", gettext_lazy("Immunizations"), "11369-6")
SECTION_RESULTS = ("results", gettext_lazy("Results"), "30954-2")

TREND_WORDS = {
    "up": gettext_lazy("rising"),
    "down": gettext_lazy("falling"),
    "stable": gettext_lazy("stable"),
}


@dataclass
class Note:
    css_class: str  # "conflict", "rectification" or "source"
    text: str


@dataclass
class Entry:
    line: SummaryLine
    notes: list[Note]


@dataclass
class Section:
    anchor: str
    title: StrOrPromise  # lazy: rendered in the reader's language
    loinc: str
    entries: list[Entry]


@dataclass
class ResultRow:
    series: ResultSeries
    notes: list[Note]
    value: str
    unit: str
    reference: str
    trend: str


def _number(value: Decimal | None) -> str:
    return format_number(value)  # the same text as on the page, in the reader's conventions


def _reference(series: ResultSeries) -> str:
    low, high = _number(series.reference_low), _number(series.reference_high)
    if low and high:
        return f"{low} – {high}"
    if low:
        return f"≥ {low}"
    if high:
        return f"≤ {high}"
    return series.reference_text


def _css_string(text: str) -> str:
    """A CSS string literal, safe inside a style sheet."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return f'"{escaped}"'


def page_counter_css(template: str) -> str:
    """Turn "page %(page)s of %(pages)s" (translated) into a CSS ``content`` value with counters."""
    parts = []
    for piece in re.split(r"(%\(pages?\)s)", template):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts) or "counter(page)"


def line_notes(line: SummaryLine) -> list[Note]:
    """Where a line comes from, and what is doubtful about it, as short sentences."""
    notes = []
    if line.conflict:
        notes.append(Note("conflict", _("sources disagree: %(values)s") % {"values": " / ".join(line.conflict)}))
    if line.rectification:
        notes.append(
            Note("rectification", _("the patient says this is wrong: %(reason)s") % {"reason": line.rectification})
        )
    if line.declared_by:
        notes.append(Note("source", _("declared by %(name)s") % {"name": line.declared_by}))
    for source in line.sources:
        if source.withheld:
            notes.append(Note("source", _("from a document")))
        elif source.deleted:
            if source.title:
                notes.append(Note("source", _("source deleted: %(title)s") % {"title": source.title}))
            else:
                notes.append(Note("source", _("source deleted")))
        elif source.title:
            notes.append(Note("source", _("source: %(title)s") % {"title": source.title}))
    return notes


def _entries(lines: list[SummaryLine]) -> list[Entry]:
    return [Entry(line=line, notes=line_notes(line)) for line in lines]


def summary_context(*, summary: Summary) -> dict:
    # "No known allergies" and ruled-out entries are information in their IPS section, never alerts.
    stated = [*summary.none_known, *summary.ruled_out]
    allergies = [line for line in summary.alerts if line.kind == FactKind.ALLERGY]
    allergies += [line for line in stated if line.kind == FactKind.ALLERGY]
    problems = [*summary.problems, *(line for line in stated if line.kind == FactKind.CONDITION)]
    medications = [*summary.medications, *(line for line in stated if line.kind == FactKind.MEDICATION)]
    sections = [
        Section(*SECTION_ALLERGIES, entries=_entries(allergies)),
        Section(*SECTION_PROBLEMS, entries=_entries(problems)),
        Section(*SECTION_MEDICATIONS, entries=_entries(medications)),
        Section(*SECTION_IMMUNIZATIONS, entries=_entries(summary.vaccinations)),
    ]
    if summary.possibly_stopped:  # after the current medications; absent rather than empty
        sections.insert(3, Section(*SECTION_POSSIBLY_STOPPED, entries=_entries(summary.possibly_stopped)))
    results = [
        ResultRow(
            series=series,
            notes=line_notes(series.latest),
            value=series.latest.shown_value,  # with its unit; "result in the document" when none
            unit=series.latest.unit or series.unit,
            reference=_reference(series),
            trend=str(TREND_WORDS.get(series.trend, "")),
        )
        for series in summary.results
    ]
    return {
        "summary": summary,
        "record": summary.record,
        "generated_at": summary.generated_at,
        "alerts": Section(*SECTION_ALERTS, entries=_entries(summary.alerts)),
        "sections": sections,
        "results_section": Section(*SECTION_RESULTS, entries=[]),
        "results": results,
        "page_counter": page_counter_css(_("page %(page)s of %(pages)s")),
        "header_title": _css_string(_("Patient summary")),
    }


def summary_html(*, summary: Summary) -> str:
    return render_to_string("summaries/summary_pdf.html", summary_context(summary=summary))


def summary_pdf(*, summary: Summary) -> bytes:
    """The summary as an A4 PDF, in the active language."""
    from weasyprint import HTML

    return HTML(string=summary_html(summary=summary)).write_pdf()
