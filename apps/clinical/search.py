"""Finding facts by the words a person uses: the lay-term table's entries as a database condition,
and the matching things with their latest facts, in a constant number of queries.

Nothing here decides who may see what: every function works on the facts the caller already
listed through ``facts_visible_to`` (the door). apps.summaries.search composes it with the
documents' own search for the record's search box."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Max, Q, QuerySet, Subquery
from django.db.models.expressions import Window
from django.db.models.functions import DenseRank

from apps.clinical.lay_terms import Interpretation, LayEntry, LayTable, lay_table
from apps.clinical.models import FactKind

if TYPE_CHECKING:
    from collections.abc import Iterable

    from apps.clinical.models import ClinicalFact

# Code systems as facts store them: the FHIR URI, or the OID a CDA gave when it was not mapped.
LOINC_SYSTEMS = ("http://loinc.org", "2.16.840.1.113883.6.1")
ATC_SYSTEMS = ("http://www.whocc.no/atc", "2.16.840.1.113883.6.73")
ICD10_SYSTEMS = (
    "http://hl7.org/fhir/sid/icd-10",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://hl7.org/fhir/sid/icd-10-fr",
    "2.16.840.1.113883.6.3",
    "2.16.840.1.113883.6.90",
)
SNOMED_SYSTEMS = ("http://snomed.info/sct", "2.16.840.1.113883.6.96")
CVX_SYSTEMS = ("http://hl7.org/fhir/sid/cvx", "2.16.840.1.113883.12.292")
# Observation categories that are not laboratory results (FHIR observation-category, and their
# French and display spellings), for "my last blood test".
NOT_LABORATORY = r"^\s*(vital|signes? vitaux|survey|social|exam|activity|imaging|procedure|therapy)"
# A query that looks like a code ("4548-4", "J07BB", "E11.9") is also looked up as one.
_CODE_LIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9.\-]{1,30}$")
# A substring of the text shorter than this matches too much ("ta" is in "potassium").
MIN_TEXT_WORD = 3

# Accented and ligature spellings of each letter, upper and lower case: the database compares the
# text as written ("Cholestérol"), the query arrives folded ("cholesterol"). Both cases are listed
# because a database's case-insensitive match may not fold non-ASCII letters (PostgreSQL in the C locale).
_VARIANTS = {
    "a": "aàâäáãåAÀÂÄÁÃÅ",
    "c": "cçCÇ",
    "e": "eéèêëEÉÈÊË",
    "i": "iîïíìIÎÏÍÌ",
    "n": "nñNÑ",
    "o": "oôöóòõøOÔÖÓÒÕØ",
    "u": "uùûüúUÙÛÜÚ",
    "y": "yÿýYŸÝ",
}


def accent_insensitive(text: str) -> str:
    """A regular expression finding ``text`` (folded) in a text written with accents and ligatures."""
    pattern, i = [], 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in ("oe", "ae"):
            ligature = "œŒ" if pair == "oe" else "æÆ"
            pattern.append(f"(?:{_class(pair[0])}{_class(pair[1])}|[{ligature}])")
            i += 2
            continue
        pattern.append(_class(text[i]))
        i += 1
    return "".join(pattern)


def _class(char: str) -> str:
    variants = _VARIANTS.get(char)
    return f"[{variants}]" if variants else re.escape(char)


def _text_contains(text: str) -> Q:
    return Q(display__iregex=accent_insensitive(text))


def _codes(systems: tuple[str, ...], codes: Iterable[str]) -> Q:
    codes = sorted(codes)
    return Q(code_system__in=systems, code__in=codes) if codes else Q(pk__in=[])


def _prefixes(systems: tuple[str, ...], prefixes: tuple[str, ...]) -> Q:
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= Q(code__istartswith=prefix)
    return Q(code_system__in=systems) & condition if prefixes else condition


def laboratory(table: LayTable | None = None) -> Q:
    """Laboratory results: observations that are neither vital signs (by their LOINC code) nor of
    another category the source gave (survey, social history...)."""
    table = table or lay_table()
    vital = Q(code_system__in=LOINC_SYSTEMS, code__in=sorted(table.vital_signs_loinc))
    return Q(kind=FactKind.OBSERVATION) & ~vital & ~Q(category__iregex=NOT_LABORATORY)


def entry_condition(entry: LayEntry, visible: QuerySet[ClinicalFact], table: LayTable | None = None) -> Q:
    """The facts an entry of the table means, among ``visible``: its codes, its words in the text of
    facts of its kinds, or (an entry with no code) every fact of its kinds."""
    condition = Q(pk__in=[])
    if entry.coded:
        condition |= _codes(LOINC_SYSTEMS, entry.loinc)
        condition |= _codes(SNOMED_SYSTEMS, entry.snomed)
        condition |= _codes(CVX_SYSTEMS, entry.cvx)
        condition |= _prefixes(ATC_SYSTEMS, entry.atc_prefixes)
        condition |= _prefixes(ICD10_SYSTEMS, entry.icd10_prefixes)
    elif entry.kinds:
        condition |= Q(kind__in=entry.kinds)
    if entry.display_words:
        said = Q(pk__in=[])
        for word in entry.display_words:
            said |= _text_contains(word)
        condition |= said & Q(kind__in=entry.kinds) if entry.kinds else said
    if entry.scope == "laboratory":
        condition &= laboratory(table)
    if entry.latest:
        # The results of the latest date among those the entry means (and the reader may see).
        latest = visible.filter(condition, effective_date__isnull=False).order_by("-effective_date")
        condition &= Q(effective_date=Subquery(latest.values("effective_date")[:1]))
    return condition


def _all_said(words: tuple[str, ...]) -> Q:
    """Facts whose text holds every word long enough to search for (none: no fact)."""
    searchable = [word for word in words if len(word) >= MIN_TEXT_WORD]
    if not searchable:
        return Q(pk__in=[])
    said = Q()
    for word in searchable:
        said &= _text_contains(word)
    return said


def matching_condition(interpretation: Interpretation, visible: QuerySet[ClinicalFact], query: str = "") -> Q:
    """Facts a query finds: those of the entries it names, those whose text holds all its words
    (for anything the table does not know: a brand name, a rare test), and, when the query looks
    like a code, the facts with that code."""
    table = lay_table()
    condition = Q(pk__in=[])
    for entry in interpretation.entries:
        condition |= entry_condition(entry, visible, table)
    condition |= _all_said(interpretation.words)
    if interpretation.entries:
        # "vaccin hépatite": the vaccines, and whatever says "hépatite".
        condition |= _all_said(interpretation.leftover)
    query = query.strip()
    if _CODE_LIKE.match(query):
        condition |= Q(code__iexact=query)
    return condition


@dataclass
class ThingMatch:
    """One thing (a test, a medication, a vaccine...) the search found, with its latest facts."""

    kind: str
    thing_key: str
    latest: date | None
    count: int  # its facts the search found
    facts: list[ClinicalFact] = field(default_factory=list)  # at its latest dates, oldest stored first


@dataclass
class FactMatches:
    things: list[ThingMatch]
    total: int  # things found, shown or not


def fact_search(
    *,
    visible: QuerySet[ClinicalFact],
    interpretation: Interpretation,
    query: str = "",
    limit: int,
    dates_per_thing: int,
    fields: tuple[str, ...] = (),
    annotations: dict[str, Any] | None = None,
) -> FactMatches:
    """The things a query finds among ``visible``, latest first, at most ``limit``, each with its
    facts at its ``dates_per_thing`` latest dates.

    Three queries whatever the size of the record: the things (grouped, ranked by their latest
    date), their number, then their facts at their latest dates (a window over each thing).
    ``fields`` and ``annotations`` shape the facts read (the caller's columns and subqueries): they
    are applied to that last query only, never to the grouping."""
    matched = visible.filter(matching_condition(interpretation, visible, query))
    things_query = (
        matched.order_by()
        .values("kind", "thing_key")
        .annotate(latest=Max("effective_date"), found=Count("pk"))
        .order_by(F("latest").desc(nulls_last=True), "kind", "thing_key")
    )
    rows = list(things_query[:limit])
    total = things_query.count()
    things = [ThingMatch(row["kind"], row["thing_key"], row["latest"], row["found"]) for row in rows]
    by_kind: dict[str, list[str]] = {}
    for thing in things:
        by_kind.setdefault(thing.kind, []).append(thing.thing_key)
    shown = Q(pk__in=[])
    for kind, keys in by_kind.items():
        shown |= Q(kind=kind, thing_key__in=keys)
    facts = matched.filter(shown).annotate(
        date_rank=Window(
            DenseRank(),
            partition_by=[F("kind"), F("thing_key")],
            order_by=F("effective_date").desc(nulls_last=True),
        )
    )
    if fields:
        facts = facts.only(*fields)
    if annotations:
        facts = facts.annotate(**annotations)
    index = {(thing.kind, thing.thing_key): thing for thing in things}
    for fact in facts.filter(date_rank__lte=dates_per_thing).order_by("pk"):
        index[(fact.kind, fact.thing_key)].facts.append(fact)
    return FactMatches(things=things, total=total)
