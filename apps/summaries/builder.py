"""The summary: "what matters now?" from the record's structured facts, in a constant number of queries.

Every line carries its sources (document ids and titles). Facts with the same
code and date from several sources are merged into one line; when they
disagree, the line says so and shows both values.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce

from apps.access.door import require
from apps.access.history.services import previous_allowed_at
from apps.access.policy import PROFESSIONAL_BASES, Action, Decision, Resource
from apps.clinical.alerts import allergies_first_by_risk, allergy_risk_label, serious_reason
from apps.clinical.models import FactAssertion, FactKind, RectificationRequest, thing_key_for
from apps.clinical.naming import display_name, no_value_label, value_label
from apps.clinical.selectors import facts_visible_to, things_of_record
from apps.clinical.status import FactState, fact_confirmed_on, latest_of, none_known_display, state_display, state_of
from apps.records.models import DocumentStatus, Record
from apps.records.selectors import ShownDocuments, documents_shown_to, documents_visible_to
from apps.summaries.flags import SummaryFlag, summary_flags
from apps.summaries.result_units import agree, normalized_reference, series_unit, trend_points, unit_note

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.clinical.models import ClinicalFact
    from apps.records.models import Document

# Whether a line is current, finished, possibly no longer taken... is decided by the one status
# rule (apps/clinical/status.py), shared with the profile, the PDF and the APIs.
# Conditions worth an alert: by their codes, apps/clinical/alerts.py (data/serious_conditions.json).
RESULTS_LIMIT = 40
TREND_POINTS = 8


@dataclass
class Source:
    document_id: str | None
    title: str
    deleted: bool = False
    withheld: bool = False  # from a document the reader may not see: no id, no title


@dataclass
class SummaryLine:
    kind: str
    display: str
    code_system: str = ""
    code: str = ""
    date: date | None = None
    end: dt.date | None = None  # (the field above hides the type's name here)
    status: str = ""  # the source's own status, as written (our state is ``state``)
    detail: str = ""
    value: str = ""
    unit: str = ""
    number: Decimal | None = None  # the value as a number, for display with the reader's conventions
    sources: list[Source] = field(default_factory=list)
    conflict: list[str] = field(default_factory=list)  # the differing values, when sources disagree
    declared_by: str = ""
    rectification: str = ""  # the person's note that this fact is wrong
    fact_ids: list[str] = field(default_factory=list)
    state: str = ""  # FactState: the one status rule's word for this line
    last_confirmed: dt.date | None = None  # the latest date any document (or the person) stated this thing
    assertion: str = FactAssertion.PRESENT
    name: str = ""  # the short name a person reads, in the reader's language (``display``: the source's text)
    criticality: str = ""  # allergies: as the source gives it (low, high, unable-to-assess)
    alert_reason: str = ""  # why the line is an alert, in words ("Heart failure", "high risk"), else ""

    @property
    def source_status(self) -> str:
        return self.status

    @property
    def state_display(self) -> str:
        """Our state in the reader's language ("current", "possibly no longer taken"...)."""
        return state_display(self.state)

    @property
    def is_event(self) -> bool:
        """A vaccination, a procedure or a result: dated by when it happened, not confirmed."""
        return self.state in (FactState.DONE, FactState.NOT_DONE)

    @property
    def confirmation_shown(self) -> dt.date | None:
        """ "last confirmed <date>" on every problem, allergy and medication line that has a date."""
        return None if self.is_event else self.last_confirmed

    @property
    def date_shown(self) -> dt.date | None:
        """The line's own date beside its last confirmation: an event's date, or a start that a later
        document re-confirmed ("since 1975 · last confirmed 2023"); never the same date twice."""
        if self.is_event or self.last_confirmed != self.date:
            return self.date
        return None

    @property
    def shown_value(self) -> str:
        """The value with its unit in the reader's conventions; a result without one says so."""
        label = value_label(number=self.number, text=self.value, unit=self.unit)
        if not label and self.kind == FactKind.OBSERVATION:
            return no_value_label(self.status)
        return label


@dataclass
class ResultSeries:
    display: str  # the source's text; ``name`` is what a person reads
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
    name: str = ""
    # ``unit`` is the series' unit (its test's canonical one, apps/clinical/units.py): the points are in
    # it; the latest line keeps the value and unit its source wrote, and the reference range is its.
    unit_flag: str = ""  # unconvertible, unknown_unit, implausible: a series of its own
    unit_note: str = ""  # why, in plain words ("measured in another unit: not compared with the others")
    chart_low: Decimal | None = None  # the reference range in the series' unit, for the chart's band
    chart_high: Decimal | None = None

    @property
    def converted(self) -> bool:
        """The trend is in another unit than the latest line's (126 mg/dL on a trend in mmol/L)."""
        return self.unit != self.latest.unit


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
    # How many things the reader may see in all (the "all results / conditions / medications"
    # pages list them), so the first screen says what it leaves out.
    totals: Counts = field(default_factory=lambda: Counts())
    # Medications no document re-confirmed for MEDICATION_RECONFIRM_MONTHS: their own short list,
    # never hidden and never among the current ones.
    possibly_stopped: list[SummaryLine] = field(default_factory=list)
    # Information, never alerts: "no known allergy", and what a source ruled out ("no diabetes").
    none_known: list[SummaryLine] = field(default_factory=list)
    ruled_out: list[SummaryLine] = field(default_factory=list)

    @property
    def reconfirm_months(self) -> int:
        """After how many months without a document a medication is "possibly no longer taken"."""
        from django.conf import settings

        return settings.MEDICATION_RECONFIRM_MONTHS

    # What visible documents say of the person: died, an identity that differs (apps/summaries/flags.py).
    flags: list[SummaryFlag] = field(default_factory=list)

    @property
    def show_codes(self) -> bool:
        """Codes (LOINC, ICD-10...) are shown beside the names to professional readers only."""
        return self.decision.basis in PROFESSIONAL_BASES

    @property
    def more(self) -> Counts:
        """What exists beyond the lines shown (past conditions and medications included)."""
        # Ruled-out and "none known" lines are shown too (as information), so not "more".
        stated = [line.kind for line in [*self.none_known, *self.ruled_out]]
        return Counts(
            results=max(self.totals.results - len(self.results), 0),
            conditions=max(self.totals.conditions - len(self.problems) - stated.count(FactKind.CONDITION), 0),
            medications=max(
                self.totals.medications
                - len(self.medications)
                - len(self.possibly_stopped)
                - stated.count(FactKind.MEDICATION),
                0,
            ),
        )


@dataclass(frozen=True)
class Counts:
    results: int = 0  # result series
    conditions: int = 0  # conditions, current and past
    medications: int = 0  # medications, current and past


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


def _value(fact: ClinicalFact) -> str:
    if fact.value_decimal is not None:
        return f"{fact.value_decimal.normalize():f}"
    return fact.value_text


def _value_read(fact: ClinicalFact) -> str:
    """The fact's value and unit as a person reads them, in the reader's conventions."""
    return value_label(number=fact.value_decimal, text=fact.value_text, unit=unit_display(fact.unit))


def _source(fact: ClinicalFact, shown: ShownDocuments) -> Source:
    document = fact.source_document  # None, without a query, when the fact has no document
    if document is None:
        if fact.origin == "declared":
            return Source(document_id=None, title="")
        if not shown.gone_titles:
            return Source(document_id=None, title="", deleted=True)
        return Source(document_id=None, title=fact.source_label, deleted=True)
    if not shown.shows(fact.source_document_id):
        return Source(document_id=None, title="", withheld=True)
    return Source(document_id=str(document.uuid), title=document.title)


# The reason of a fact's open rectification, annotated by _facts (unseen by the type checker).
OPEN_RECTIFICATION = "open_rectification"
# The latest date of care among the documents stating the fact's thing (annotated by _facts).
THING_CONFIRMED = "thing_confirmed"


def thing_confirmed(visible: QuerySet[ClinicalFact]) -> Case:
    """For each fact row: the latest date of care of a visible document that states its thing (a
    2023 letter listing a treatment "since 1975" re-confirms it in 2023). Problems, allergies and
    medications only: results and vaccinations are events, confirmed by their own date."""
    same = visible.filter(
        kind=OuterRef("kind"), thing_key=OuterRef("thing_key"), source_document__care_date__isnull=False
    )
    return Case(
        When(
            kind__in=(FactKind.ALLERGY, FactKind.CONDITION, FactKind.MEDICATION),
            then=Subquery(same.order_by("-source_document__care_date").values("source_document__care_date")[:1]),
        )
    )


def line_annotations(visible: QuerySet[ClinicalFact]) -> dict[str, Subquery | Case]:
    """What _merge reads of each fact beyond its columns: its open rectification's reason and its
    thing's last confirmation (the summary, the all-results pages and the search load them alike)."""
    open_rectification = (
        RectificationRequest.objects.filter(fact=OuterRef("pk"), withdrawn_at__isnull=True)
        .order_by("-created_at", "-pk")
        .values("reason")[:1]
    )
    return {OPEN_RECTIFICATION: Subquery(open_rectification), THING_CONFIRMED: thing_confirmed(visible)}


def _last_confirmed(group: list[ClinicalFact]) -> dt.date | None:
    """The line's last confirmation: its own date, its documents' dates of care, and the thing's
    latest date of care elsewhere when _facts annotated it (see thing_confirmed)."""
    return latest_of([*(fact_confirmed_on(f) for f in group), *(getattr(f, THING_CONFIRMED, None) for f in group)])


def _merge(facts: list[ClinicalFact], shown: ShownDocuments) -> list[SummaryLine]:
    """One line per (thing, date); sources gathered; differing values kept as a conflict; its
    state by the one status rule (apps/clinical/status.py) from the line's first fact."""
    groups: dict[tuple, list[ClinicalFact]] = defaultdict(list)
    for fact in facts:
        groups[(fact.thing_key, fact.effective_date)].append(fact)
    lines = []
    for group in groups.values():
        first = group[0]
        # As the reader reads them (170,2 cm): the conflict is shown, the same text as the values.
        values = sorted({_value_read(f) for f in group if _value(f)})
        rectified = [r for f in group if (r := getattr(f, OPEN_RECTIFICATION)) is not None]
        last_confirmed = _last_confirmed(group)
        state = state_of(first, last_confirmed=last_confirmed)
        display = first.display
        name = display_name(code_system=first.code_system, code=first.code, display=display)
        if state == FactState.NONE_KNOWN:  # read "No known allergy", never an allergy named "Substance"
            name = none_known_display(kind=first.kind, display=display, code_system=first.code_system, code=first.code)
        lines.append(
            SummaryLine(
                kind=first.kind,
                display=display,
                code_system=first.code_system,
                code=first.code,
                date=first.effective_date,
                end=first.effective_end,
                status=first.status,
                detail=first.detail,
                value=_value(first),
                unit=unit_display(first.unit),
                number=first.value_decimal,
                sources=_unique_sources(group, shown),
                conflict=values if len(values) > 1 and not agree(group) else [],  # 126 mg/dL = 6.99 mmol/L
                declared_by=first.declared_by_label if first.origin == "declared" else "",
                rectification=rectified[0] if rectified else "",
                fact_ids=[str(f.uuid) for f in group],
                state=state,
                last_confirmed=last_confirmed,
                assertion=first.assertion,
                name=name,
                criticality=first.criticality,
                alert_reason=_alert_reason(first),
            )
        )
    return lines


def _alert_reason(fact: ClinicalFact) -> str:
    """Why the fact would be an alert, in words: a serious condition by its code (words only for
    uncoded text, never for a negated entry), or a high-risk allergy."""
    if fact.kind == FactKind.CONDITION:
        return serious_reason(fact) or ""
    if fact.kind == FactKind.ALLERGY and fact.assertion == FactAssertion.PRESENT:
        return allergy_risk_label(fact.criticality)
    return ""


def _unique_sources(group: list[ClinicalFact], shown: ShownDocuments) -> list[Source]:
    seen, sources = set(), []
    for fact in group:
        source = _source(fact, shown)
        marker = (source.document_id, source.title, source.deleted, source.withheld)
        if marker not in seen:
            seen.add(marker)
            sources.append(source)
    return sources


def _newest_first(lines: list[SummaryLine]) -> list[SummaryLine]:
    return sorted(lines, key=lambda line: (line.date or date.min, line.display), reverse=True)


def _latest_per_thing(lines: list[SummaryLine]) -> list[SummaryLine]:
    latest: dict[str, SummaryLine] = {}
    for line in _newest_first(lines):
        latest.setdefault(thing_key_for(line.code_system, line.code, line.display), line)
    return list(latest.values())


def _active(line: SummaryLine) -> bool:
    """Current, by the one status rule (the line's state)."""
    return line.state == FactState.CURRENT


def _serious(line: SummaryLine) -> bool:
    """A serious condition, by the coded table of apps/clinical/alerts.py (see _alert_reason)."""
    return line.kind == FactKind.CONDITION and bool(line.alert_reason)


def _series(
    facts: list[ClinicalFact], order: list[str], shown: ShownDocuments, *, limit: int | None = None
) -> list[ResultSeries]:
    """One series per thing of ``order`` (already the display order, see _top_series), from the
    facts _facts() loaded for it: those at its latest date and at its TREND_POINTS latest dates
    with a number (all that the series shows). At most ``limit`` (default RESULTS_LIMIT)."""
    by_thing: dict[str, list[ClinicalFact]] = {key: [] for key in order}
    for fact in facts:
        if fact.thing_key in by_thing:  # not a series of equal rank left out at the limit
            by_thing[fact.thing_key].append(fact)
    series = []
    for group in by_thing.values():
        if not group:  # its facts went between the two reads
            continue
        lines = _newest_first(_merge(group, shown))
        latest = lines[0]
        latest_fact = next(f for f in group if str(f.uuid) in latest.fact_ids)
        numeric = trend_points(group, latest_fact, TREND_POINTS)[-TREND_POINTS:]  # in the series' unit
        trend = ""
        if len(numeric) >= 2:
            before, last = numeric[-2][1], numeric[-1][1]
            trend = "stable" if before == last else ("up" if last > before else "down")
        low, high = latest_fact.reference_low, latest_fact.reference_high
        value = latest_fact.value_decimal
        series.append(
            ResultSeries(
                display=latest.display,
                name=latest.name,
                code_system=latest.code_system,
                code=latest.code,
                unit=unit_display(series_unit(group, latest_fact)),
                latest=latest,
                points=numeric,
                trend=trend,
                reference_low=low,
                reference_high=high,
                reference_text=latest_fact.reference_text,
                # Compared in the unit the source wrote, with the range it gave beside the value.
                out_of_range=value is not None
                and ((low is not None and value < low) or (high is not None and value > high)),
                unit_flag=latest_fact.unit_flag,
                unit_note=unit_note(latest_fact),
                chart_low=normalized_reference(latest_fact, low),
                chart_high=normalized_reference(latest_fact, high),
            )
        )
    series.sort(key=lambda s: (s.latest.date or date.min, s.display), reverse=True)  # stable: ties keep order
    return series[: RESULTS_LIMIT if limit is None else limit]


# The fact columns the summary reads; the source document's uuid and title only (never its text).
SUMMARY_FACT_FIELDS = (
    "uuid",
    "kind",
    "thing_key",
    "code_system",
    "code",
    "display",
    "status",
    "effective_date",
    "effective_end",
    "value_decimal",
    "value_text",
    "unit",
    "reference_low",
    "reference_high",
    "reference_text",
    "detail",
    "origin",
    "source_label",
    "declared_by_label",
    "source_document",
    "source_document__uuid",
    "source_document__title",
    "source_document__care_date",
    "value_normalized",
    "unit_normalized",
    "series_unit",
    "unit_flag",
    "assertion",
    "criticality",
    "code_known",
)


@dataclass(frozen=True)
class _Thing:
    """What the summary needs to know of one thing before loading any of its facts."""

    kind: str
    key: str
    latest: date | None  # its latest visible date (None: its visible facts are undated)
    name: str | None  # the display of the first stored visible fact at that date (None: nothing visible)
    oldest_point: date | None  # results: the date of its TREND_POINTS-th latest point (None: fewer)

    @property
    def seen(self) -> bool:
        return self.name is not None

    @property
    def rank(self) -> tuple[date, str]:
        # The summary's order (descending): latest date, undated last, then the line's name.
        return (self.latest or date.min, self.name or "")


def _things(record: Record, visible: QuerySet[ClinicalFact]) -> list[_Thing]:
    """Every thing of the record with its latest visible date, through index lookups per thing
    (ORDER BY date DESC LIMIT 1 among its visible facts): none of its history is read beyond the
    newest visible facts (a hidden newer fact is skipped, and never hides an older visible one)."""
    same = visible.filter(kind=OuterRef("kind"), thing_key=OuterRef("thing_key"))
    dated = same.filter(effective_date__isnull=False).order_by("-effective_date")
    rows = (
        things_of_record(record)
        .annotate(
            latest=Subquery(dated.values("effective_date")[:1]),
            name=Coalesce(
                Subquery(same.filter(effective_date=OuterRef("latest")).order_by("pk").values("display")[:1]),
                Subquery(same.filter(effective_date__isnull=True).order_by("pk").values("display")[:1]),
            ),
            oldest_point=Case(
                When(
                    kind=FactKind.OBSERVATION,
                    then=Subquery(
                        dated.filter(value_decimal__isnull=False)
                        .values("effective_date")
                        .distinct()[TREND_POINTS - 1 : TREND_POINTS]
                    ),
                )
            ),
        )
        .values_list("kind", "thing_key", "latest", "name", "oldest_point")
    )
    return [_Thing(*row) for row in rows]


def _top_series(things: list[_Thing]) -> tuple[list[list[_Thing]], set[str]]:
    """The result series that may be shown, as groups of equal rank in display order, enough
    groups for RESULTS_LIMIT series; and the keys whose order within their group is still to be
    decided (by storage order: the series whose first visible fact was stored first comes first)."""
    groups: dict[tuple[date, str], list[_Thing]] = defaultdict(list)
    for thing in things:
        if thing.kind == FactKind.OBSERVATION and thing.seen:
            groups[thing.rank].append(thing)
    shown, count = [], 0
    for rank in sorted(groups, reverse=True):
        if count >= RESULTS_LIMIT:
            break
        shown.append(groups[rank])
        count += len(groups[rank])
    return shown, {thing.key for group in shown if len(group) > 1 for thing in group}


def _shown(visible: QuerySet[ClinicalFact], things: list[_Thing], series: list[_Thing], tied: set[str]) -> Q:
    """The facts shown, as index ranges: each thing's facts at its latest date, the trend points of
    the series, and for series of equal rank the first visible fact (to order them)."""
    shown = Q(pk__isnull=True)  # nothing: the query still runs, so every summary runs the same queries
    lines: dict[tuple[str, date | None], list[str]] = defaultdict(list)
    keys = {thing.key for thing in series}
    for thing in things:
        if thing.seen and (thing.kind != FactKind.OBSERVATION or thing.key in keys):
            lines[(thing.kind, thing.latest)].append(thing.key)
    for (kind, day), same_day in lines.items():
        shown |= Q(kind=kind, thing_key__in=same_day, effective_date=day)  # day None: IS NULL
    points: dict[date | None, list[str]] = defaultdict(list)
    for thing in series:
        points[thing.oldest_point].append(thing.key)
    for oldest, same_oldest in points.items():
        point = Q(kind=FactKind.OBSERVATION, thing_key__in=same_oldest, value_decimal__isnull=False)
        shown |= point & (Q(effective_date__gte=oldest) if oldest else Q(effective_date__isnull=False))
    # Rare (the same name at the same latest date) and the only lookup that may read a series'
    # whole history. The extra fact is older than the trend points it is not one of, so it never
    # enters them (_series keeps the TREND_POINTS latest), and its line is never the latest.
    for key in sorted(tied):
        first = visible.filter(kind=FactKind.OBSERVATION, thing_key=key).order_by("pk").values("pk")[:1]
        shown |= Q(pk=Subquery(first))
    return shown


def _facts(record: Record, actor: User, decision: Decision) -> tuple[list[ClinicalFact], list[str], Counts]:
    """Only the facts the summary shows, chosen among the visible ones, the order of the result
    series, and how many things of each kind the reader may see (from the same list of things):

    - allergies, conditions, medications, vaccinations: each thing's facts at its latest date
      (the current line, merged across sources; whether it is still active is decided after);
    - results: for the RESULTS_LIMIT series shown, the facts at the latest date and those at the
      TREND_POINTS latest dates with a number (the trend points).

    Two queries whatever the size of the record: the things with their latest dates (index
    lookups per thing), then the facts at those dates (index ranges) with their open
    rectification. The work grows with the number of things shown, not with the history."""
    visible = facts_visible_to(actor=actor, record=record, decision=decision)
    things = _things(record, visible)
    groups, tied = _top_series(things)
    series = [thing for group in groups for thing in group]
    facts: list[ClinicalFact] = list(
        visible.filter(_shown(visible, things, series, tied))
        .select_related("source_document")
        .only(*SUMMARY_FACT_FIELDS)
        .annotate(**line_annotations(visible))
        .order_by("pk")  # storage order, which decides the merge's first fact and ties
    )
    # A tied series' rows include its first visible fact (see _shown): the smallest id among them.
    first_stored: dict[str, int] = {}
    for fact in facts:
        if fact.kind == FactKind.OBSERVATION:
            first_stored.setdefault(fact.thing_key, fact.pk)
    order = [
        thing.key for group in groups for thing in sorted(group, key=lambda thing: first_stored.get(thing.key, 0))
    ][:RESULTS_LIMIT]
    return facts, order, _totals(things)


def _totals(things: list[_Thing]) -> Counts:
    """Every thing with a visible fact, counted by kind: no query beyond the list of things."""
    seen = [thing.kind for thing in things if thing.seen]
    return Counts(
        results=seen.count(FactKind.OBSERVATION),
        conditions=seen.count(FactKind.CONDITION),
        medications=seen.count(FactKind.MEDICATION),
    )


def _last_visit(actor: User, record: Record) -> datetime | None:
    """When this person last opened this record's summary, before now."""
    return previous_allowed_at(actor=actor, record=record, action=Action.PROFILE_READ)


def record_summary(*, actor: User, record: Record, resource: Resource | None = None) -> Summary:
    """The first screen of a record. Reading it is journaled like any read of the medical profile.

    ``resource`` names what the summary is read for (the summary PDF): a support mandate that may
    only print the summary is allowed for that, never for the page."""
    from django.utils import timezone

    decision = require(actor=actor, record=record, action=Action.PROFILE_READ, resource=resource)
    by_kind: dict[str, list[ClinicalFact]] = defaultdict(list)
    facts, series_order, totals = _facts(record, actor, decision)
    for fact in facts:
        by_kind[fact.kind].append(fact)
    # A source's title and link only for whom may see that document (a caregiver who may read the
    # profile but not the documents reads "from a document").
    shown = documents_shown_to(
        actor=actor,
        record=record,
        among=(fact.source_document_id for fact in facts),
        gone_named=any(fact.source_document_id is None and fact.origin != "declared" for fact in facts),
    )

    # Each thing's latest line, in the state the one status rule gives it (apps/clinical/status.py).
    latest = {
        kind: _latest_per_thing(_merge(by_kind[kind], shown))
        for kind in (FactKind.ALLERGY, FactKind.CONDITION, FactKind.MEDICATION, FactKind.IMMUNIZATION)
    }
    allergies = [line for line in latest[FactKind.ALLERGY] if _active(line)]
    conditions = [line for line in latest[FactKind.CONDITION] if _active(line)]
    medications = [line for line in latest[FactKind.MEDICATION] if _active(line)]
    possibly_stopped = [line for line in latest[FactKind.MEDICATION] if line.state == FactState.POSSIBLY_STOPPED]
    stated = [line for lines in latest.values() for line in lines]
    none_known = [line for line in stated if line.state == FactState.NONE_KNOWN]
    ruled_out = [line for line in stated if line.state == FactState.RULED_OUT]
    vaccinations = [line for line in latest[FactKind.IMMUNIZATION] if line.state != FactState.ENTERED_IN_ERROR]
    since = _last_visit(actor, record)
    new_documents = (
        list(
            # Listing documents is its own decision (a caregiver may read the profile, not the documents).
            documents_visible_to(actor=actor, record=record)
            .filter(status=DocumentStatus.READY, created_at__gt=since)
            .only("uuid", "title", "created_at", "care_date")  # a link each: never the documents' text
            .order_by("-created_at")[:20]
        )
        if since and resource is None  # the page's "since your last visit", not the PDF's
        else []
    )
    return Summary(
        record=record,
        decision=decision,
        alerts=[*allergies_first_by_risk(allergies), *[c for c in conditions if _serious(c)]],
        problems=_newest_first(conditions),
        medications=_newest_first(medications),
        results=_series(by_kind[FactKind.OBSERVATION], series_order, shown),
        vaccinations=_newest_first(vaccinations),
        new_documents=new_documents,
        since=since,
        generated_at=timezone.now(),
        totals=totals,
        possibly_stopped=_newest_first(possibly_stopped),
        none_known=_newest_first(none_known),
        ruled_out=_newest_first(ruled_out),
        flags=summary_flags(actor=actor, record=record),
    )
