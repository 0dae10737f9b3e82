"""Everything the summary leaves out, one tap away: all results grouped by panel, all conditions
and all medications (current and past).

The same rules and the same lines as the summary (apps/summaries/builder.py): one journaled
profile read through the door, the facts listed by facts_visible_to, each source named only to
whom may see its document. Bounded like the summary: the things with their latest dates, then the
facts at those dates (and each series' trend points), whatever the length of the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Q, QuerySet

from apps.access.door import require
from apps.access.policy import PROFESSIONAL_BASES, Action, Decision
from apps.clinical.models import FactKind, fold
from apps.clinical.panels import PANEL_LABELS, panel_key, panel_order, panel_position
from apps.clinical.selectors import facts_visible_to
from apps.clinical.status import FactState
from apps.records.selectors import ShownDocuments, documents_shown_to, record_get_for
from apps.summaries import builder
from apps.summaries.builder import (
    SUMMARY_FACT_FIELDS,
    ResultSeries,
    SummaryLine,
    _latest_per_thing,
    _merge,
    _newest_first,
    _series,
    _shown,
    _things,
    line_annotations,
)

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.clinical.models import ClinicalFact
    from apps.records.models import Record


@dataclass
class Panel:
    key: str  # a panels.json key, "group:<folded label>" (the source's own group) or "other"
    label: str
    series: list[ResultSeries]


@dataclass
class HistoryLine:
    """A condition's or medication's latest line, and whether it is current (the one status rule:
    ``line.state`` says more, e.g. "possibly no longer taken")."""

    line: SummaryLine
    current: bool


# The history pages' sections, by the line's state (apps/clinical/status.py): current, then the
# medications nobody re-confirmed, then everything else (finished, ruled out, none known...).
HISTORY_SECTIONS = ("current", "possibly_stopped", "past")


def history_sections(lines: list[HistoryLine]) -> dict[str, list[SummaryLine]]:
    sections: dict[str, list[SummaryLine]] = {key: [] for key in HISTORY_SECTIONS}
    for entry in lines:
        if entry.current:
            sections["current"].append(entry.line)
        elif entry.line.state == FactState.POSSIBLY_STOPPED:
            sections["possibly_stopped"].append(entry.line)
        else:
            sections["past"].append(entry.line)
    return sections


def _rows(visible: QuerySet[ClinicalFact], condition: Q) -> list[ClinicalFact]:
    """The facts chosen by ``condition``, with the columns and open rectification the summary's
    lines read (as builder._facts loads them), plus the source's grouping of each result."""
    return list(
        visible.filter(condition)
        .select_related("source_document")
        .only(*SUMMARY_FACT_FIELDS, "group_label")
        .annotate(**line_annotations(visible))
        .order_by("pk")  # storage order, which decides the merge's first fact, as in the summary
    )


def _shown_to(actor: User, record: Record, facts: list[ClinicalFact]) -> ShownDocuments:
    return documents_shown_to(
        actor=actor,
        record=record,
        among=(fact.source_document_id for fact in facts),
        gone_named=any(fact.source_document_id is None and fact.origin != "declared" for fact in facts),
    )


# --- All results, by panel ------------------------------------------------------------------


def all_results(*, actor: User, record: Record) -> list[Panel]:
    """Every result series the reader may see, grouped by panel; journaled as a profile read."""
    decision = require(actor=actor, record=record, action=Action.PROFILE_READ)
    return _results(actor, record, decision)


def all_results_get(*, actor: User, record_uuid: UUID | str) -> tuple[Record, Decision, list[Panel]]:
    """The record, the decision and its results in one journaled decision (a missing record is
    journaled too)."""
    record, decision = record_get_for(actor=actor, record_uuid=record_uuid, action=Action.PROFILE_READ)
    return record, decision, _results(actor, record, decision)


def _results(actor: User, record: Record, decision: Decision) -> list[Panel]:
    visible = facts_visible_to(actor=actor, record=record, decision=decision)
    things = [thing for thing in _things(record, visible) if thing.kind == FactKind.OBSERVATION and thing.seen]
    # Each series' latest line and trend points, as the summary loads them for the series it shows.
    facts = _rows(visible, _shown(visible, things, things, set()))
    series = _series(facts, [thing.key for thing in things], _shown_to(actor, record, facts), limit=len(things))
    group_labels = {str(fact.uuid): fact.group_label for fact in facts}
    panels: dict[str, Panel] = {}
    for one in series:
        # The group the source gave the latest result, for a test our table does not place.
        group = next((group_labels[i] for i in one.latest.fact_ids if group_labels.get(i)), "")
        key = panel_key(one.code_system, one.code, group)
        if key not in panels:
            label = str(PANEL_LABELS[key]) if key in PANEL_LABELS else group.strip()
            panels[key] = Panel(key=key, label=label, series=[])
        panels[key].series.append(one)
    for panel in panels.values():
        # The order a lab report lists them (the table's), then the others by name.
        panel.series.sort(key=_series_order)
    return [panels[key] for key in sorted(panels, key=panel_order)]


def _series_order(series: ResultSeries) -> tuple[bool, int, str, str]:
    position = panel_position(series.code_system, series.code)
    return (position is None, position or 0, fold(series.name or series.display), series.unit)


# --- All conditions and medications, current and past ------------------------------------------


def all_conditions(*, actor: User, record: Record) -> list[HistoryLine]:
    """Every condition the reader may see, current and past, newest first; journaled."""
    decision = require(actor=actor, record=record, action=Action.PROFILE_READ)
    return _history(actor, record, decision, FactKind.CONDITION)


def all_medications(*, actor: User, record: Record) -> list[HistoryLine]:
    """Every medication the reader may see, current and past, newest first; journaled."""
    decision = require(actor=actor, record=record, action=Action.PROFILE_READ)
    return _history(actor, record, decision, FactKind.MEDICATION)


def history_get(*, actor: User, record_uuid: UUID | str, kind: str) -> tuple[Record, Decision, list[HistoryLine]]:
    """The record, the decision and its conditions or medications (``kind``) in one journaled decision."""
    if kind not in (FactKind.CONDITION, FactKind.MEDICATION):
        raise ValueError(f"no history page for {kind!r}")
    record, decision = record_get_for(actor=actor, record_uuid=record_uuid, action=Action.PROFILE_READ)
    return record, decision, _history(actor, record, decision, kind)


def _history(actor: User, record: Record, decision: Decision, kind: str) -> list[HistoryLine]:
    visible = facts_visible_to(actor=actor, record=record, decision=decision)
    things = [thing for thing in _things(record, visible) if thing.kind == kind and thing.seen]
    facts = _rows(visible, _shown(visible, things, [], set()))
    lines = _newest_first(_latest_per_thing(_merge(facts, _shown_to(actor, record, facts))))
    # Through the module, so the summary's status rule (whoever changes it) decides here too.
    return [HistoryLine(line=line, current=builder._active(line)) for line in lines]


def shows_codes(decision: Decision) -> bool:
    """Codes (LOINC, ICD-10...) beside the names for professional readers only, as on the summary."""
    return decision.basis in PROFESSIONAL_BASES


def panel_counts(panels: list[Panel]) -> int:
    """How many result series the panels hold."""
    return sum(len(panel.series) for panel in panels)
