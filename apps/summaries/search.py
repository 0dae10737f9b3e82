"""The record's search box: facts and documents found by the words a person uses.

Facts belong to clinical (apps/clinical/search.py finds them through the lay-term table),
documents to records (the timeline's full-text search); this module composes both for one
reader, through the door, and makes each found thing one line with its value, date and source,
built by the same merge as the summary (so a line reads the same on both screens)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.utils.translation import gettext

from apps.access.door import require
from apps.access.policy import Action, decide
from apps.access.refusals import Refused
from apps.clinical.lay_terms import interpret, suggestions
from apps.clinical.models import FactKind, fold
from apps.clinical.search import fact_search
from apps.clinical.selectors import facts_visible_to
from apps.records.selectors import documents_shown_to
from apps.records.timeline import TimelineFilters, documents_timeline
from apps.summaries.builder import (
    SUMMARY_FACT_FIELDS,
    SummaryLine,
    _merge,
    line_annotations,
)

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record
    from apps.records.timeline import TimelineDocument

QUERY_MAX_LENGTH = 200
QUERY_MIN_LENGTH = 2  # "TA" (tension artérielle) is a question
THINGS_LIMIT = 25  # lines of facts shown; the rest is counted
DOCUMENTS_LIMIT = 10
DATES_PER_THING = 3  # the latest line and two earlier values, for a glance at the trend


class SearchRefused(Refused):
    """A query the search cannot take (too long): the person is told why."""


@dataclass
class FoundThing:
    """One thing found (a test, a medication, a vaccine...): its latest line first, then earlier ones."""

    kind: str
    latest: SummaryLine
    earlier: list[SummaryLine] = field(default_factory=list)
    count: int = 1  # its facts the search found, shown or not

    @property
    def kind_display(self) -> str:
        return str(FactKind(self.kind).label) if self.kind in FactKind.values else self.kind


@dataclass
class SearchResults:
    query: str
    message: str = ""  # why nothing was searched (too short), in the reader's language
    understood: list[str] = field(default_factory=list)  # what the table took the words for
    latest_only: bool = False  # "my last blood test": only the latest date's results
    facts_searched: bool = False
    documents_searched: bool = False
    things: list[FoundThing] = field(default_factory=list)
    more_things: int = 0
    documents: list[TimelineDocument] = field(default_factory=list)
    more_documents: int = 0
    suggestions: list[str] = field(default_factory=list)  # words to try when nothing was found

    @property
    def searched(self) -> bool:
        return self.facts_searched or self.documents_searched

    @property
    def found(self) -> bool:
        return bool(self.things or self.documents)


def clean_query(query: str) -> str:
    """The query as searched: spaces collapsed; refused when too long (a clear reason, not a cut)."""
    query = " ".join((query or "").split())
    if len(query) > QUERY_MAX_LENGTH:
        raise SearchRefused(
            gettext("A search can be at most %(max)d characters long (this one has %(length)d).")
            % {"max": QUERY_MAX_LENGTH, "length": len(query)},
            field="q",
        )
    return query


def record_search(*, actor: User, record: Record, query: str, language: str) -> SearchResults:
    """What the record says about ``query``, for this reader: the facts they may read (when they may
    read the medical profile: journaled once, as a read of the profile) and the documents they may
    list (when they may: journaled as a list of documents). Neither: the one 404, journaled.

    An empty or too-short query reads nothing and journals nothing: it gets a message."""
    query = clean_query(query)
    interpretation = interpret(query)
    if len(fold(query).replace(" ", "")) < QUERY_MIN_LENGTH or not interpretation.words:
        return SearchResults(
            query=query,
            message=gettext("Type at least %(min)d letters: a test, a medicine, a vaccine, a word of a document.")
            % {"min": QUERY_MIN_LENGTH},
            suggestions=suggestions(language),
        )
    may_read_profile = decide(actor=actor, record=record, action=Action.PROFILE_READ).allowed
    may_list_documents = decide(actor=actor, record=record, action=Action.DOCUMENT_LIST).allowed
    if not (may_read_profile or may_list_documents):
        require(actor=actor, record=record, action=Action.PROFILE_READ)  # journals the refusal, raises the 404
    results = SearchResults(
        query=query,
        understood=[entry.label(language) for entry in interpretation.entries],
        latest_only=interpretation.latest_only,
    )
    if may_read_profile:
        _find_facts(results, actor=actor, record=record, query=query, interpretation=interpretation)
    if may_list_documents:
        # The timeline's own search (PostgreSQL's stored vector, or the embedded default's plain
        # match), decided and journaled there as a list of documents.
        page = documents_timeline(
            actor=actor, record=record, filters=TimelineFilters(query=query), limit=DOCUMENTS_LIMIT
        )
        results.documents_searched = True
        results.documents = page.documents
        results.more_documents = max(0, sum(page.category_counts.values()) - len(page.documents))
    if not results.found:
        results.suggestions = suggestions(language)
    return results


def _find_facts(results: SearchResults, *, actor: User, record: Record, query: str, interpretation) -> None:
    decision = require(actor=actor, record=record, action=Action.PROFILE_READ)
    visible = facts_visible_to(actor=actor, record=record, decision=decision)
    matches = fact_search(
        visible=visible,
        interpretation=interpretation,
        query=query,
        limit=THINGS_LIMIT,
        dates_per_thing=DATES_PER_THING,
        fields=SUMMARY_FACT_FIELDS,
        # What the summary's merge reads of each fact: its open rectification, its thing's last confirmation.
        annotations=line_annotations(visible),
    )
    facts = [fact for thing in matches.things for fact in thing.facts]
    # A source's title and link only for whom may see that document, decided once for the page.
    shown = documents_shown_to(
        actor=actor,
        record=record,
        among=(fact.source_document_id for fact in facts),
        gone_named=any(fact.source_document_id is None and fact.origin != "declared" for fact in facts),
    )
    for thing in matches.things:
        if not thing.facts:  # its facts went between the two reads
            continue
        lines = sorted(_merge(thing.facts, shown), key=lambda line: line.date or date.min, reverse=True)
        results.things.append(FoundThing(kind=thing.kind, latest=lines[0], earlier=lines[1:], count=thing.count))
    results.facts_searched = True
    results.more_things = max(0, matches.total - len(matches.things))
