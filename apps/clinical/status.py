"""THE status rule: what state a fact is in, for every screen and interface that shows one.

The summary, the medical profile, the summary PDF, the REST APIs (and FHIR later) all call
``fact_state``: a line can never be "current" on one screen and "finished" on another. The
source's own status is kept beside ours (``source_status``), never replaced.

What a general practitioner reading a summary expects:

- an explicit status from the source wins (resolved is finished, refuted is ruled out);
- an end date in the past ends a problem, an allergy or a treatment, whatever the status says;
- a medication nobody has re-confirmed for ``MEDICATION_RECONFIRM_MONTHS`` is "possibly no longer
  taken": prescriptions marked "active" decades ago are not current medications, but they are not
  hidden either (a treatment dropped from the list silently is as dangerous as a stale one);
- an allergy or a problem without a usable status stays current however old it is: allergies are
  lifelong until a document says otherwise, and chronic conditions (diabetes, hypertension) are
  rarely written again; missing one is worse than showing an old one, and every line shows its
  last confirmation date so the reader can judge its age;
- "no known allergies" and ruled-out entries are information, never the thing itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.clinical.models import FactAssertion, FactKind, fold
from apps.clinical.parsers.common import negated_substance_label, no_known_label

__all__ = [
    "SOURCE_STATUSES",
    "FactState",
    "confirmed_on",
    "fact_state",
    "is_no_known_situation",
    "none_known_display",
    "state_display",
    "state_of",
]


class FactState(models.TextChoices):
    """Our state of a fact, in the words a reader uses."""

    CURRENT = "current", pgettext_lazy("fact state", "current")
    FINISHED = "finished", pgettext_lazy("fact state", "finished")
    POSSIBLY_STOPPED = "possibly_stopped", pgettext_lazy("fact state", "possibly no longer taken")
    RULED_OUT = "ruled_out", pgettext_lazy("fact state", "ruled out")
    NONE_KNOWN = "none_known", pgettext_lazy("fact state", "none known")
    ENTERED_IN_ERROR = "entered_in_error", pgettext_lazy("fact state", "entered in error")
    DONE = "done", pgettext_lazy("fact state", "done")
    # A vaccination or procedure the source says was not given / not done (CDA negationInd,
    # FHIR status not-done): never counted as done.
    NOT_DONE = "not_done", pgettext_lazy("fact state", "not done")


# What a source status means, once folded (no accents, lower case). One table for every format:
#
# - FHIR Condition/AllergyIntolerance clinicalStatus: active, recurrence, relapse → current;
#   inactive, remission, resolved → finished (the FHIR definitions: the condition is no longer
#   present or being treated). verificationStatus refuted → ruled out; entered-in-error.
# - FHIR MedicationStatement/MedicationRequest status: active, intended, on-hold → current (an
#   on-hold treatment is paused, not ended: the GP must see it); completed, stopped, cancelled,
#   not-taken → finished. draft and unknown say nothing: treated as no status.
# - CDA (C-CDA, IHE PCC, French CI-SIS): the parser gives a nested status observation (Active,
#   Inactive, Resolved, or their SNOMED codes) when there is one, else the concern act's
#   statusCode. A concern act "completed" or "aborted" means the concern is no longer tracked as
#   active (C-CDA Problem/Allergy Concern Act, IHE PCC Concern Entry); "suspended" is paused →
#   current. A substanceAdministration "completed" is a past medication; "active" a current one;
#   "nullified" was entered in error.
# - French statuses as written in CI-SIS narrative-derived entries: actif, en cours → current;
#   résolu, inactif, arrêté, terminé, guéri, en rémission, annulé → finished; réfuté, infirmé →
#   ruled out.
# Immunisations, procedures and results are events: "completed", "final"... all mean done, and
# only not-done / entered-in-error change that (see fact_state).
CURRENT, FINISHED, RULED_OUT, IN_ERROR, NOT_DONE = "current", "finished", "ruled_out", "in_error", "not_done"
SOURCE_STATUSES: dict[str, str] = {
    # current
    "active": CURRENT,
    "recurrence": CURRENT,
    "relapse": CURRENT,
    "intended": CURRENT,
    "on-hold": CURRENT,
    "suspended": CURRENT,
    "held": CURRENT,
    "new": CURRENT,
    "chronic": CURRENT,
    "intermittent": CURRENT,
    "55561003": CURRENT,  # SNOMED CT Active (C-CDA problem/allergy status value)
    "90734009": CURRENT,  # SNOMED CT Chronic
    "7087005": CURRENT,  # SNOMED CT Intermittent
    "255227004": CURRENT,  # SNOMED CT Recurrent
    "actif": CURRENT,
    "en cours": CURRENT,
    "suspendu": CURRENT,
    # finished
    "inactive": FINISHED,
    "remission": FINISHED,
    "resolved": FINISHED,
    "completed": FINISHED,
    "complete": FINISHED,
    "aborted": FINISHED,
    "stopped": FINISHED,
    "cancelled": FINISHED,
    "canceled": FINISHED,
    "not-taken": FINISHED,
    "no longer active": FINISHED,
    "73425007": FINISHED,  # SNOMED CT Inactive
    "413322009": FINISHED,  # SNOMED CT Resolved / no longer active
    "277022003": FINISHED,  # SNOMED CT In remission
    "resolu": FINISHED,
    "inactif": FINISHED,
    "arrete": FINISHED,
    "termine": FINISHED,
    "gueri": FINISHED,
    "en remission": FINISHED,
    "annule": FINISHED,
    # ruled out
    "refuted": RULED_OUT,
    "refute": RULED_OUT,
    "infirme": RULED_OUT,
    # entered in error
    "entered-in-error": IN_ERROR,
    "entered in error": IN_ERROR,
    "nullified": IN_ERROR,
    "erreur de saisie": IN_ERROR,
    # not done (events)
    "not done": NOT_DONE,
    "not-done": NOT_DONE,
    "non fait": NOT_DONE,
    "non realise": NOT_DONE,
}
# Events: a date, not a course. "done" unless the source says otherwise.
EVENT_KINDS = frozenset({FactKind.IMMUNIZATION, FactKind.OBSERVATION, FactKind.PROCEDURE})
EVENT_NOT_DONE = frozenset({"cancelled", "canceled", "annule"})

SNOMED = "http://snomed.info/sct"
_SYSTEM_ALIASES = {"urn:oid:2.16.840.1.113883.6.96": SNOMED, "2.16.840.1.113883.6.96": SNOMED}

# How the reader sees a "none known" line of each kind, when the source's words name a substance
# ("Substance") rather than the absence.
NONE_KNOWN_DISPLAY = {
    FactKind.ALLERGY: _("No known allergy"),
    FactKind.CONDITION: _("No known problem"),
    FactKind.MEDICATION: _("No known medication"),
    FactKind.IMMUNIZATION: _("No known vaccination"),
    FactKind.PROCEDURE: _("No known procedure"),
    FactKind.OBSERVATION: _("No known result"),
}


def _coded(part: str, code_system: str, code: str) -> bool:
    """One table for the parsers and this rule: apps/clinical/data/no_known_codes.json."""
    system = _SYSTEM_ALIASES.get(code_system, code_system)
    if not code:
        return False
    if part == "situations":
        return bool(no_known_label(system, code))
    return bool(negated_substance_label(system, code))


def is_no_known_situation(code_system: str, code: str) -> bool:
    """The code itself says "none known" (SNOMED 716186003 No known allergy...)."""
    return _coded("situations", code_system, code)


def source_meaning(status: str) -> str:
    """What the source status means in SOURCE_STATUSES ("" when it says nothing we know)."""
    return SOURCE_STATUSES.get(fold(status), "")


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):  # the same day, or the month's last day when it has fewer
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: every month has 28 days


def fact_state(
    *,
    kind: str,
    status: str,
    assertion: str = FactAssertion.PRESENT,
    effective_date: dt.date | None = None,
    effective_end: dt.date | None = None,
    last_confirmed: dt.date | None = None,
    today: dt.date | None = None,
    settings: Any = None,
    code_system: str = "",
    code: str = "",
) -> FactState:
    """Our state of one fact. ``last_confirmed``: the latest date any document (or the person)
    stated this thing (see ``confirmed_on``); without it, the fact's own date."""
    if settings is None:
        from django.conf import settings
    today = today or timezone.localdate()
    meaning = source_meaning(status)
    if meaning == IN_ERROR:
        return FactState.ENTERED_IN_ERROR
    if assertion == FactAssertion.NONE_KNOWN or is_no_known_situation(code_system, code):
        return FactState.NONE_KNOWN
    if kind in EVENT_KINDS:
        # "completed" or "final" is the normal end of an event; a negated one (CDA negationInd on
        # a vaccination) or a cancelled one never happened.
        if assertion == FactAssertion.ABSENT or meaning == NOT_DONE or fold(status) in EVENT_NOT_DONE:
            return FactState.NOT_DONE
        return FactState.DONE
    if assertion == FactAssertion.ABSENT or meaning == RULED_OUT:
        # "Refuted allergy to Substance" (a CDA negationInd with a generic agent) rules out every
        # allergy: that is "no known allergy", not an allergy that was ruled out.
        if kind == FactKind.ALLERGY and (_coded("generic_agents", code_system, code) or not code):
            return FactState.NONE_KNOWN
        return FactState.RULED_OUT
    if effective_end is not None and effective_end < today:
        return FactState.FINISHED
    if meaning in (FINISHED, NOT_DONE):
        return FactState.FINISHED
    if kind == FactKind.MEDICATION:
        # An end date still to come says how long it is taken: the source itself dates it.
        if effective_end is not None:
            return FactState.CURRENT
        confirmed = last_confirmed or effective_date
        months = getattr(settings, "MEDICATION_RECONFIRM_MONTHS", 12)
        # Undated (a person's own declaration without a date): nothing tells its age, the
        # source's word stands.
        if confirmed is not None and confirmed < _months_before(today, months):
            return FactState.POSSIBLY_STOPPED
    return FactState.CURRENT


class _FactLike(Protocol):
    kind: str
    status: str
    assertion: str
    effective_date: dt.date | None
    effective_end: dt.date | None
    code_system: str
    code: str


def state_of(
    fact: _FactLike, *, last_confirmed: dt.date | None = None, today: dt.date | None = None, settings: Any = None
) -> FactState:
    """``fact_state`` of a ClinicalFact (or anything with the same fields)."""
    return fact_state(
        kind=fact.kind,
        status=fact.status,
        assertion=getattr(fact, "assertion", FactAssertion.PRESENT) or FactAssertion.PRESENT,
        effective_date=fact.effective_date,
        effective_end=fact.effective_end,
        last_confirmed=last_confirmed,
        today=today,
        settings=settings,
        code_system=fact.code_system,
        code=fact.code,
    )


def confirmed_on(effective_date: dt.date | None, care_date: dt.date | None, *, kind: str = "") -> dt.date | None:
    """When a fact confirms its thing: the later of its own date and its document's date of care
    (a 2023 letter listing a treatment "since 1975" confirms it in 2023). An event (``kind`` a
    vaccination, a result, a procedure) is dated by when it happened, whatever the document's date."""
    if kind in EVENT_KINDS:
        return effective_date
    dates = [day for day in (effective_date, care_date) if day is not None]
    return max(dates) if dates else None


def fact_confirmed_on(fact: Any) -> dt.date | None:
    """confirmed_on() of a stored fact (its date, its document's date of care)."""
    document = fact.source_document if fact.source_document_id is not None else None
    return confirmed_on(fact.effective_date, document.care_date if document is not None else None, kind=fact.kind)


def latest_of(dates: Iterable[dt.date | None]) -> dt.date | None:
    """The latest known date (None when none is known)."""
    known = [day for day in dates if day is not None]
    return max(known) if known else None


def state_display(state: str) -> str:
    """Our state in the reader's language."""
    try:
        return str(FactState(state).label)
    except ValueError:
        return state


def none_known_display(*, kind: str, display: str, code_system: str, code: str) -> str:
    """The words of a "none known" line: the source's own when its code says the absence
    ("No known food allergy"), else the kind's ("No known allergy", never "Substance")."""
    if is_no_known_situation(code_system, code):
        return display
    phrase = NONE_KNOWN_DISPLAY.get(FactKind(kind)) if kind in FactKind.values else None
    return str(phrase) if phrase is not None else gettext("None known")
