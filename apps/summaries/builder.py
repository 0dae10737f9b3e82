"""The summary: "what matters now?" from the record's structured facts, in a constant number of queries.

Every line carries its sources (document ids and titles). Facts with the same
code and date from several sources are merged into one line; when they
disagree, the line says so and shows both values.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Prefetch

from apps.access.models import AccessEvent, Outcome
from apps.access.policy import Action, Decision, Resource, authorize
from apps.access.professional import visible_documents_filter
from apps.clinical.models import ClinicalFact, FactKind, RectificationRequest
from apps.clinical.selectors import facts_visible_to
from apps.records.models import Document, DocumentStatus, Record
from apps.records.selectors import RecordUnavailable

if TYPE_CHECKING:
    from apps.accounts.models import User

# Statuses that end a problem or a treatment. "completed" is not one: in CDA it
# only says the act was recorded; an end date in the past is what ends it.
INACTIVE_STATUSES = {
    "resolved",
    "inactive",
    "remission",
    "refuted",
    "entered-in-error",
    "not done",
    "stopped",
    "cancelled",
    "résolu",
    "resolu",
    "inactif",
    "arrêté",
    "arrete",
}
# Conditions worth an alert on the first screen (matched on the text, in French or English).
SERIOUS_WORDS = (
    "diabet",
    "cancer",
    "carcinom",
    "tumeur",
    "tumor",
    "insuffisance",
    "failure",
    "epilep",
    "infarct",
    "cardiac arrest",
    "arret cardiaque",
    "stroke",
    "avc",
    "hemophil",
    "anticoag",
    "transplant",
    "greff",
    "vih",
    "hiv",
    "asthm",
    "bpco",
    "copd",
    "dement",
    "dementia",
    "pacemaker",
    "stimulateur",
)  # compared with the text folded (no accents, lower case)
RESULTS_LIMIT = 40
TREND_POINTS = 8


@dataclass
class Source:
    document_id: str | None
    title: str
    deleted: bool = False


@dataclass
class SummaryLine:
    kind: str
    display: str
    code_system: str = ""
    code: str = ""
    date: date | None = None
    end: date | None = None
    status: str = ""
    detail: str = ""
    value: str = ""
    unit: str = ""
    number: Decimal | None = None  # the value as a number, for display with the reader's conventions
    sources: list[Source] = field(default_factory=list)
    conflict: list[str] = field(default_factory=list)  # the differing values, when sources disagree
    declared_by: str = ""
    rectification: str = ""  # the person's note that this fact is wrong
    fact_ids: list[str] = field(default_factory=list)


@dataclass
class ResultSeries:
    display: str
    code_system: str
    code: str
    unit: str
    latest: SummaryLine
    points: list[tuple[date, Decimal]]  # oldest first, at most TREND_POINTS
    trend: str  # "up", "down", "stable", ""
    reference_low: Decimal | None = None
    reference_high: Decimal | None = None
    reference_text: str = ""
    out_of_range: bool = False


@dataclass
class Summary:
    record: Record
    decision: Decision
    alerts: list[SummaryLine]
    problems: list[SummaryLine]
    medications: list[SummaryLine]
    results: list[ResultSeries]
    vaccinations: list[SummaryLine]
    new_documents: list[Document]
    since: datetime | None
    generated_at: datetime


# UCUM codes as sources write them, and how a person reads them.
UNIT_DISPLAY = {
    "mm[Hg]": "mmHg",
    "m[IU]/L": "mUI/L",
    "[IU]/L": "UI/L",
    "Cel": "°C",
    "/min": "/min",
    "kg/m2": "kg/m²",
    "[lb_av]": "lb",
    "[in_i]": "in",
    "10*3/uL": "10³/µL",
    "10*6/uL": "10⁶/µL",
    "10*9/L": "10⁹/L",
    "10*12/L": "10¹²/L",
    "ug/L": "µg/L",
    "umol/L": "µmol/L",
    "{score}": "",
}


def unit_display(unit: str) -> str:
    return UNIT_DISPLAY.get(unit, unit)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def _key(fact: ClinicalFact) -> tuple[str, str]:
    # The same thing from two sources: same code in the same system, else the same words.
    return (fact.code_system, fact.code) if fact.code else ("text", _fold(fact.display))


def _value(fact: ClinicalFact) -> str:
    if fact.value_decimal is not None:
        return f"{fact.value_decimal.normalize():f}"
    return fact.value_text


def _source(fact: ClinicalFact) -> Source:
    if fact.source_document_id is None:
        if fact.origin == "declared":
            return Source(document_id=None, title="")
        return Source(document_id=None, title=fact.source_label, deleted=True)
    return Source(document_id=str(fact.source_document.uuid), title=fact.source_document.title)


def _merge(facts: list[ClinicalFact]) -> list[SummaryLine]:
    """One line per (thing, date); sources gathered; differing values kept as a conflict."""
    groups: dict[tuple, list[ClinicalFact]] = defaultdict(list)
    for fact in facts:
        groups[(*_key(fact), fact.effective_date)].append(fact)
    lines = []
    for group in groups.values():
        first = group[0]
        values = sorted({_value(f) + (f" {f.unit}" if f.unit else "") for f in group if _value(f)})
        rectified = [r.reason for f in group for r in f.rectifications.all() if r.withdrawn_at is None]
        lines.append(
            SummaryLine(
                kind=first.kind,
                display=first.display,
                code_system=first.code_system,
                code=first.code,
                date=first.effective_date,
                end=first.effective_end,
                status=first.status,
                detail=first.detail,
                value=_value(first),
                unit=unit_display(first.unit),
                number=first.value_decimal,
                sources=_unique_sources(group),
                conflict=values if len(values) > 1 else [],
                declared_by=first.declared_by_label if first.origin == "declared" else "",
                rectification=rectified[0] if rectified else "",
                fact_ids=[str(f.uuid) for f in group],
            )
        )
    return lines


def _unique_sources(group: list[ClinicalFact]) -> list[Source]:
    seen, sources = set(), []
    for fact in group:
        source = _source(fact)
        marker = (source.document_id, source.title, source.deleted)
        if marker not in seen:
            seen.add(marker)
            sources.append(source)
    return sources


def _newest_first(lines: list[SummaryLine]) -> list[SummaryLine]:
    return sorted(lines, key=lambda line: (line.date or date.min, line.display), reverse=True)


def _latest_per_thing(lines: list[SummaryLine]) -> list[SummaryLine]:
    latest: dict[tuple[str, str], SummaryLine] = {}
    for line in _newest_first(lines):
        key = (line.code_system, line.code) if line.code else ("text", _fold(line.display))
        latest.setdefault(key, line)
    return list(latest.values())


def _active(line: SummaryLine) -> bool:
    from django.utils import timezone

    if line.end is not None and line.end < timezone.localdate():
        return False
    return _fold(line.status) not in INACTIVE_STATUSES


def _serious(line: SummaryLine) -> bool:
    text = _fold(line.display)
    return any(word in text for word in SERIOUS_WORDS)


def _series(facts: list[ClinicalFact]) -> list[ResultSeries]:
    by_thing: dict[tuple[str, str], list[ClinicalFact]] = defaultdict(list)
    for fact in facts:
        by_thing[_key(fact)].append(fact)
    series = []
    for group in by_thing.values():
        lines = _newest_first(_merge(group))
        latest = lines[0]
        latest_fact = next(f for f in group if str(f.uuid) in latest.fact_ids)
        numeric = sorted(
            {(f.effective_date, f.value_decimal) for f in group if f.value_decimal is not None and f.effective_date},
        )[-TREND_POINTS:]
        trend = ""
        if len(numeric) >= 2:
            before, last = numeric[-2][1], numeric[-1][1]
            trend = "stable" if before == last else ("up" if last > before else "down")
        low, high = latest_fact.reference_low, latest_fact.reference_high
        value = latest_fact.value_decimal
        series.append(
            ResultSeries(
                display=latest.display,
                code_system=latest.code_system,
                code=latest.code,
                unit=latest.unit,
                latest=latest,
                points=numeric,
                trend=trend,
                reference_low=low,
                reference_high=high,
                reference_text=latest_fact.reference_text,
                out_of_range=value is not None
                and ((low is not None and value < low) or (high is not None and value > high)),
            )
        )
    series.sort(key=lambda s: (s.latest.date or date.min, s.display), reverse=True)
    return series[:RESULTS_LIMIT]


def _facts(record: Record, actor: User, decision: Decision) -> list[ClinicalFact]:
    facts = facts_visible_to(actor=actor, record=record, decision=decision).prefetch_related(
        Prefetch("rectifications", queryset=RectificationRequest.objects.order_by("-created_at"))
    )
    return list(facts)


def _last_visit(actor: User, record: Record) -> datetime | None:
    """When this person last opened this record's summary, before now."""
    previous = (
        AccessEvent.objects.filter(
            record_uuid=record.uuid, actor_uuid=actor.uuid, action=Action.PROFILE_READ, outcome=Outcome.ALLOWED
        )
        .order_by("-seq")
        .values_list("occurred_at", flat=True)[1:2]
    )
    return previous[0] if previous else None


def record_summary(*, actor: User, record: Record, resource: Resource | None = None) -> Summary:
    """The first screen of a record. Reading it is journaled like any read of the medical profile.

    ``resource`` names what the summary is read for (the summary PDF): a support mandate that may
    only print the summary is allowed for that, never for the page."""
    from django.utils import timezone

    decision = authorize(actor=actor, record=record, action=Action.PROFILE_READ, resource=resource)
    if not decision.allowed:
        raise RecordUnavailable(decision)
    by_kind: dict[str, list[ClinicalFact]] = defaultdict(list)
    for fact in _facts(record, actor, decision):
        by_kind[fact.kind].append(fact)

    allergies = [line for line in _latest_per_thing(_merge(by_kind[FactKind.ALLERGY])) if _active(line)]
    conditions = [line for line in _latest_per_thing(_merge(by_kind[FactKind.CONDITION])) if _active(line)]
    medications = [line for line in _latest_per_thing(_merge(by_kind[FactKind.MEDICATION])) if _active(line)]
    vaccinations = _latest_per_thing(_merge(by_kind[FactKind.IMMUNIZATION]))
    since = _last_visit(actor, record)
    new_documents = (
        list(
            Document.objects.filter(record=record, status=DocumentStatus.READY, created_at__gt=since)
            .filter(visible_documents_filter(actor, decision))
            .order_by("-created_at")[:20]
        )
        if since
        else []
    )
    return Summary(
        record=record,
        decision=decision,
        alerts=[*allergies, *[c for c in conditions if _serious(c)]],
        problems=_newest_first(conditions),
        medications=_newest_first(medications),
        results=_series(by_kind[FactKind.OBSERVATION]),
        vaccinations=_newest_first(vaccinations),
        new_documents=new_documents,
        since=since,
        generated_at=timezone.now(),
    )
