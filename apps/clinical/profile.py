"""The medical profile: the record's facts by kind, what the person declares, and their
"this is wrong" notes on imported facts.

Each function decides through the access policy (journaled) before touching anything, and
outside the write transaction, so a refused change never takes its journal row with it.
Imported facts are never changed here: the person flags them instead (rectification).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.access.door import get_for, require
from apps.access.policy import PROFESSIONAL_BASES, Action, Decision, Resource
from apps.clinical.measurements import LOINC, UNIT_LABELS, FactRefused, measurement_check
from apps.clinical.models import FactKind, FactOrigin, RectificationRequest
from apps.clinical.naming import display_name, format_number, no_value_label, value_label
from apps.clinical.selectors import fact_and_decision_for, fact_for
from apps.clinical.services import declared_fact_create, fact_remove
from apps.clinical.status import FactState, confirmed_on, fact_confirmed_on, latest_of, none_known_display, state_of
from apps.clinical.units import fact_units_fill
from apps.records.models import Record
from apps.records.selectors import ShownDocuments, documents_shown_to, record_get_for

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.clinical.models import ClinicalFact
    from apps.records.models import Document

__all__ = [
    "FactRefused",
    "ImportedFactLocked",
    "MedicalProfile",
    "fact_declare",
    "fact_delete",
    "fact_get_for",
    "fact_update",
    "profile_for",
    "profile_get",
    "rectification_request",
    "rectification_withdraw",
]

SECTIONS: tuple[tuple[str, Any], ...] = (
    (FactKind.ALLERGY, _("Allergies and intolerances")),
    (FactKind.CONDITION, _("Conditions and history")),
    (FactKind.MEDICATION, _("Current and past treatments")),
    (FactKind.IMMUNIZATION, _("Vaccinations")),
    (FactKind.OBSERVATION, _("Measurements")),
)
CHANGEABLE = frozenset({"display", "effective_date", "value", "unit", "code_system", "code", "status", "detail"})
REASON_MAX = 2000


class ImportedFactLocked(FactRefused):
    """Imported facts say what a document says: they are flagged, never silently changed."""

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "This information comes from a document: it cannot be changed or deleted. "
                "If it is wrong, use “This is wrong” to say so; your note is kept with it and shown to professionals."
            )
        )


@dataclass
class ProfileFact:
    fact: ClinicalFact
    rectifications: list[RectificationRequest] = field(default_factory=list)
    # Whether the reader may see the source document (its title, id, link): else "from a document".
    source_shown: bool = True
    # The latest date any visible fact of the same thing was stated (its date, or its document's date
    # of care): the summary's "last confirmed", so both say the same state.
    last_confirmed: date | None = None

    def __post_init__(self) -> None:
        if self.last_confirmed is None:
            self.last_confirmed = fact_confirmed_on(self.fact)

    @property
    def declared(self) -> bool:
        return self.fact.origin == FactOrigin.DECLARED

    @property
    def source_withheld(self) -> bool:
        return not self.declared and not self.source_shown

    @property
    def source_document(self) -> Document | None:
        return self.fact.source_document if self.source_shown else None

    @property
    def source_deleted(self) -> bool:
        return not self.declared and self.fact.source_document_id is None

    @property
    def source_label(self) -> str:
        if not self.source_shown:
            return ""
        document = self.fact.source_document
        return document.title if document is not None else self.fact.source_label

    @property
    def unit(self) -> str:
        return UNIT_LABELS.get(self.fact.unit, self.fact.unit)

    @property
    def state(self) -> FactState:
        """Our state, by the one status rule (apps/clinical/status.py), as on the summary."""
        return state_of(self.fact, last_confirmed=self.last_confirmed)

    @property
    def status(self) -> str:
        """Our state in the reader's words (the source's own is ``source_status``)."""
        return str(self.state.label)

    @property
    def source_status(self) -> str:
        return self.fact.status

    @property
    def shows_state(self) -> bool:
        """Whether the state is worth a word: a result or a vaccination given is simply done."""
        return self.state != FactState.DONE

    @property
    def confirmed_later(self) -> bool:
        """A later document confirms this thing than this fact's own date ("last confirmed …")."""
        if self.state in (FactState.DONE, FactState.NOT_DONE):  # events: dated by when they happened
            return False
        return self.last_confirmed is not None and self.last_confirmed != self.fact.effective_date

    @property
    def display(self) -> str:
        """The fact's words; "No known allergy" rather than an allergy named "Substance"."""
        if self.state == FactState.NONE_KNOWN:
            fact = self.fact
            return none_known_display(
                kind=fact.kind, display=fact.display, code_system=fact.code_system, code=fact.code
            )
        return self.fact.display

    @property
    def value(self) -> str:
        """The value in the reader's conventions, the same text as on the summary (170,2)."""
        if self.fact.value_decimal is not None:
            return format_number(self.fact.value_decimal)
        return self.fact.value_text

    @property
    def name(self) -> str:
        """The short name a person reads (a known test, in the reader's language), else the fact's words."""
        fact = self.fact
        return display_name(code_system=fact.code_system, code=fact.code, display=self.display)

    @property
    def shown_value(self) -> str:
        """The value with its unit; a result without one says so (pending, or in the document)."""
        label = value_label(number=self.fact.value_decimal, text=self.fact.value_text, unit=self.unit)
        if not label and self.fact.kind == FactKind.OBSERVATION:
            return no_value_label(self.fact.status)
        return label


@dataclass
class ProfileSection:
    kind: str
    label: str
    facts: list[ProfileFact]


@dataclass
class MedicalProfile:
    record: Record
    decision: Decision
    sections: list[ProfileSection]

    @property
    def facts(self) -> list[ProfileFact]:
        return [item for section in self.sections for item in section.facts]

    @property
    def show_codes(self) -> bool:
        """Codes (LOINC, ICD-10...) are shown beside the names to professional readers only."""
        return self.decision.basis in PROFESSIONAL_BASES


# --- Reading ------------------------------------------------------------------


# Where _open_rectifications() puts a fact's open requests (an attribute the type checker cannot see).
OPEN_RECTIFICATIONS = "open_rectifications"


def _open_rectifications() -> Prefetch:
    return Prefetch(
        "rectifications",
        queryset=RectificationRequest.objects.filter(withdrawn_at__isnull=True).order_by("created_at"),
        to_attr=OPEN_RECTIFICATIONS,
    )


def _visible_facts(*, actor: User, record: Record, decision: Decision):
    from apps.clinical.selectors import facts_visible_to

    # The source document's link only (uuid, title): never its extracted text, once per fact.
    visible = facts_visible_to(actor=actor, record=record, decision=decision)
    fact_fields = [f.name for f in visible.model._meta.concrete_fields]
    return visible.only(
        *fact_fields, "source_document__uuid", "source_document__title", "source_document__care_date"
    ).prefetch_related(_open_rectifications())


def _last_confirmed(facts: list[ClinicalFact]) -> dict[tuple[str, str], date | None]:
    """Each thing's last confirmation among the visible facts (the summary's thing_confirmed)."""
    by_thing: dict[tuple[str, str], list[date | None]] = {}
    for fact in facts:
        by_thing.setdefault((fact.kind, fact.thing_key), []).append(fact_confirmed_on(fact))
    return {thing: latest_of(dates) for thing, dates in by_thing.items()}


def _build(*, actor: User, record: Record, decision: Decision) -> MedicalProfile:
    facts = _visible_facts(actor=actor, record=record, decision=decision).order_by(
        F("effective_date").desc(nulls_last=True), "display", "pk"
    )
    by_kind: dict[str, list[ProfileFact]] = {kind: [] for kind, _label in SECTIONS}
    facts = list(facts)
    shown = documents_shown_to(
        actor=actor,
        record=record,
        among=(fact.source_document_id for fact in facts),
        gone_named=any(_source_gone(fact) for fact in facts),
    )
    confirmed = _last_confirmed(facts)
    for fact in facts:
        by_kind.setdefault(fact.kind, []).append(
            ProfileFact(
                fact=fact,
                rectifications=fact.open_rectifications,
                source_shown=_source_shown(fact, shown),
                last_confirmed=confirmed[(fact.kind, fact.thing_key)],
            )
        )
    sections = [ProfileSection(kind=kind, label=str(label), facts=by_kind[kind]) for kind, label in SECTIONS]
    return MedicalProfile(record=record, decision=decision, sections=sections)


def profile_for(*, actor: User, record: Record) -> MedicalProfile:
    """The record's facts grouped by kind, in a constant number of queries; journaled as a profile read."""
    decision = require(actor=actor, record=record, action=Action.PROFILE_READ)
    return _build(actor=actor, record=record, decision=decision)


def profile_get(*, actor: User, record_uuid: UUID | str) -> MedicalProfile:
    """Fetch the record and its profile in one journaled decision (a missing record is journaled too)."""
    record, decision = record_get_for(actor=actor, record_uuid=record_uuid, action=Action.PROFILE_READ)
    return _build(actor=actor, record=record, decision=decision)


def _fact_for(*, actor: User, fact_uuid: UUID | str, action: str) -> ClinicalFact:
    """Fetch and check in one step: missing and forbidden both raise RecordUnavailable (404)."""
    return fact_for(actor=actor, fact_uuid=fact_uuid, action=action, prefetch=_open_rectifications())


def _source_gone(fact: ClinicalFact) -> bool:
    return fact.source_document_id is None and fact.origin != FactOrigin.DECLARED


def _source_shown(fact: ClinicalFact, shown: ShownDocuments) -> bool:
    if fact.source_document_id is None:  # declared (nothing to hide), or its document was deleted
        return fact.origin == FactOrigin.DECLARED or shown.gone_titles
    return shown.shows(fact.source_document_id)


def fact_get_for(*, actor: User, fact_uuid: UUID | str) -> ProfileFact:
    fact, decision = fact_and_decision_for(
        actor=actor, fact_uuid=fact_uuid, action=Action.PROFILE_READ, prefetch=_open_rectifications()
    )
    shown = documents_shown_to(
        actor=actor, record=fact.record, among=[fact.source_document_id], gone_named=_source_gone(fact)
    )
    same_thing = _visible_facts(actor=actor, record=fact.record, decision=decision).filter(
        kind=fact.kind, thing_key=fact.thing_key
    )
    dates = same_thing.values_list("effective_date", "source_document__care_date")
    return ProfileFact(
        fact=fact,
        rectifications=getattr(fact, OPEN_RECTIFICATIONS),
        source_shown=_source_shown(fact, shown),
        last_confirmed=latest_of(
            [fact_confirmed_on(fact), *(confirmed_on(day, care, kind=fact.kind) for day, care in dates)]
        ),
    )


# --- Declared facts -----------------------------------------------------------


@contextmanager
def _about(fact: ClinicalFact) -> Iterator[None]:
    """A refusal about a known fact says which record it is in (for the page to go back to)."""
    try:
        yield
    except FactRefused as refusal:
        refusal.record_uuid = fact.record.uuid
        raise


def _text(value: Any, *, limit: int, field_name: str) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        raise FactRefused(
            gettext("This text is too long: at most %(limit)s characters.") % {"limit": limit}, field=field_name
        )
    return text


def _checked(*, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The model fields of a declared fact, or FactRefused with a message a person understands."""
    if kind not in FactKind.values:
        raise FactRefused(gettext("Choose what kind of information this is."), field="kind")
    effective_date = data.get("effective_date")
    if effective_date is not None and not isinstance(effective_date, date):
        raise FactRefused(gettext("Enter a valid date."), field="effective_date")
    if effective_date is not None and effective_date > timezone.localdate():
        raise FactRefused(gettext("The date cannot be in the future."), field="effective_date")
    fields: dict[str, Any] = {
        "effective_date": effective_date,
        "display": _text(data.get("display"), limit=500, field_name="display"),
        "status": _text(data.get("status"), limit=50, field_name="status"),
        "detail": _text(data.get("detail"), limit=500, field_name="detail"),
        "code_system": _text(data.get("code_system"), limit=200, field_name="code_system"),
        "code": _text(data.get("code"), limit=100, field_name="code"),
        "value_text": "",
    }
    if kind == FactKind.OBSERVATION:
        measurement, number, unit = measurement_check(
            code=fields["code"], value=data.get("value"), unit=data.get("unit") or ""
        )
        fields.update(
            code_system=LOINC,
            display=fields["display"] or str(measurement.display),
            value_decimal=number.quantize(Decimal("0.000001")),
            unit=unit,
        )
        return fields
    if data.get("value") not in (None, ""):
        raise FactRefused(gettext("Only a measurement has a value. Write other details in the notes."), field="value")
    if not fields["display"]:
        raise FactRefused(gettext("Say what it is, in a few words."), field="display")
    fields.update(value_decimal=None, unit="")
    return fields


def fact_declare(
    *,
    actor: User,
    record: Record,
    kind: str,
    display: str,
    effective_date: date | None = None,
    value: Decimal | str | None = None,
    unit: str = "",
    code_system: str = "",
    code: str = "",
    status: str = "",
    detail: str = "",
) -> ClinicalFact:
    """Add what the person (or someone acting for them) declares; it says who declared it."""
    require(actor=actor, record=record, action=Action.PROFILE_EDIT, resource=Resource("fact", None, str(display)[:300]))
    fields = _checked(
        kind=kind,
        data={
            "display": display,
            "effective_date": effective_date,
            "value": value,
            "unit": unit,
            "code_system": code_system,
            "code": code,
            "status": status,
            "detail": detail,
        },
    )
    with transaction.atomic():
        return declared_fact_create(actor=actor, record=record, kind=kind, fields=fields)


def fact_update(*, actor: User, fact_uuid: UUID | str, **fields: Any) -> ClinicalFact:
    """Change a declared fact; imported facts are refused (ImportedFactLocked)."""
    unknown = sorted(set(fields) - CHANGEABLE)
    if unknown:
        raise FactRefused(gettext("These cannot be changed: %(names)s.") % {"names": ", ".join(unknown)})
    fact = _fact_for(actor=actor, fact_uuid=fact_uuid, action=Action.PROFILE_EDIT)
    with _about(fact):
        if fact.origin != FactOrigin.DECLARED:
            raise ImportedFactLocked()
        if fact.kind == FactKind.OBSERVATION and "code" in fields and "display" not in fields:
            fields["display"] = ""  # another measurement: its own name
        checked = _checked(kind=fact.kind, data={**_current(fact), **fields})
    with transaction.atomic():
        for name, value in checked.items():
            setattr(fact, name, value)
        fact.code_known = bool(fact.code)
        fact_units_fill(fact)  # a changed value or unit: its value in the test's unit and its series again
        fact.save()
    return fact


def _current(fact: ClinicalFact) -> dict[str, Any]:
    return {
        "display": fact.display,
        "effective_date": fact.effective_date,
        "value": fact.value_decimal,
        "unit": fact.unit,
        "code_system": fact.code_system,
        "code": fact.code,
        "status": fact.status,
        "detail": fact.detail,
    }


def fact_delete(*, actor: User, fact_uuid: UUID | str) -> UUID:
    """Delete a declared fact; returns its record's uuid. Imported facts are refused."""
    fact = _fact_for(actor=actor, fact_uuid=fact_uuid, action=Action.PROFILE_EDIT)
    with _about(fact):
        if fact.origin != FactOrigin.DECLARED:
            raise ImportedFactLocked()
    with transaction.atomic():
        fact_remove(fact=fact)
    return fact.record.uuid


# --- Rectifications -----------------------------------------------------------


def rectification_request(*, actor: User, fact_uuid: UUID | str, reason: str) -> RectificationRequest:
    """The person says an imported fact is wrong, and why. Kept with the fact; the fact is unchanged."""
    fact = _fact_for(actor=actor, fact_uuid=fact_uuid, action=Action.PROFILE_EDIT)
    cleaned = (reason or "").strip()
    with _about(fact):
        if fact.origin == FactOrigin.DECLARED:
            raise FactRefused(gettext("You declared this yourself: change it or delete it instead."))
        if not cleaned:
            raise FactRefused(gettext("Say what is wrong, so that professionals know."), field="reason")
        if len(cleaned) > REASON_MAX:
            raise FactRefused(
                gettext("This text is too long: at most %(limit)s characters.") % {"limit": REASON_MAX},
                field="reason",
            )
    with transaction.atomic():
        return RectificationRequest.objects.create(fact=fact, requested_by=actor, reason=cleaned)


def rectification_withdraw(*, actor: User, rectification_uuid: UUID | str) -> RectificationRequest:
    """Take back a "this is wrong" note; it stays in the history, marked withdrawn."""
    rectification, _decision = get_for(actor, RectificationRequest, rectification_uuid, Action.PROFILE_EDIT)
    if rectification.withdrawn_at is None:
        with transaction.atomic():
            rectification.withdrawn_at = timezone.now()
            rectification.save(update_fields=["withdrawn_at"])
    return rectification
