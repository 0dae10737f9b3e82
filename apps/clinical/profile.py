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

from apps.access.policy import Action, Decision, Resource, authorize, journal_missing_record
from apps.clinical.measurements import LOINC, UNIT_LABELS, FactRefused, measurement_check
from apps.clinical.models import ClinicalFact, FactKind, FactOrigin, RectificationRequest
from apps.records.models import Document, Record
from apps.records.selectors import RecordUnavailable, record_get_for

if TYPE_CHECKING:
    from apps.accounts.models import User

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
STATUS_LABELS = {
    "active": _("ongoing"),
    "resolved": _("over"),
    "inactive": _("over"),
    "stopped": _("stopped"),
    "completed": _("completed"),
}


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

    @property
    def declared(self) -> bool:
        return self.fact.origin == FactOrigin.DECLARED

    @property
    def source_document(self) -> Document | None:
        return self.fact.source_document

    @property
    def source_deleted(self) -> bool:
        return not self.declared and self.fact.source_document_id is None

    @property
    def source_label(self) -> str:
        document = self.fact.source_document
        return document.title if document is not None else self.fact.source_label

    @property
    def unit(self) -> str:
        return UNIT_LABELS.get(self.fact.unit, self.fact.unit)

    @property
    def status(self) -> str:
        return str(STATUS_LABELS.get(self.fact.status.casefold(), self.fact.status))

    @property
    def value(self) -> str:
        if self.fact.value_decimal is not None:
            return f"{self.fact.value_decimal.normalize():f}"
        return self.fact.value_text


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


# --- Reading ------------------------------------------------------------------


def _open_rectifications() -> Prefetch:
    return Prefetch(
        "rectifications",
        queryset=RectificationRequest.objects.filter(withdrawn_at__isnull=True).order_by("created_at"),
        to_attr="open_rectifications",
    )


def _visible_facts(*, actor: User, record: Record, decision: Decision):
    from apps.clinical.selectors import facts_visible_to

    # The source document's link only (uuid, title): never its extracted text, once per fact.
    fact_fields = [f.name for f in ClinicalFact._meta.concrete_fields]
    return (
        facts_visible_to(actor=actor, record=record, decision=decision)
        .only(*fact_fields, "source_document__uuid", "source_document__title")
        .prefetch_related(_open_rectifications())
    )


def _build(*, actor: User, record: Record, decision: Decision) -> MedicalProfile:
    facts = _visible_facts(actor=actor, record=record, decision=decision).order_by(
        F("effective_date").desc(nulls_last=True), "display", "pk"
    )
    by_kind: dict[str, list[ProfileFact]] = {kind: [] for kind, _label in SECTIONS}
    for fact in facts:
        by_kind.setdefault(fact.kind, []).append(ProfileFact(fact=fact, rectifications=fact.open_rectifications))
    sections = [ProfileSection(kind=kind, label=str(label), facts=by_kind[kind]) for kind, label in SECTIONS]
    return MedicalProfile(record=record, decision=decision, sections=sections)


def profile_for(*, actor: User, record: Record) -> MedicalProfile:
    """The record's facts grouped by kind, in a constant number of queries; journaled as a profile read."""
    decision = authorize(actor=actor, record=record, action=Action.PROFILE_READ)
    if not decision.allowed:
        raise RecordUnavailable(decision)
    return _build(actor=actor, record=record, decision=decision)


def profile_get(*, actor: User, record_uuid: UUID | str) -> MedicalProfile:
    """Fetch the record and its profile in one journaled decision (a missing record is journaled too)."""
    record, decision = record_get_for(actor=actor, record_uuid=record_uuid, action=Action.PROFILE_READ)
    return _build(actor=actor, record=record, decision=decision)


def _fact_resource(fact: ClinicalFact) -> Resource:
    return Resource("fact", fact.uuid, fact.display[:300])


def _read_resource(fact: ClinicalFact) -> Resource:
    # Reading an imported fact is reading its document: masked and matrix rules apply.
    document = fact.source_document
    if document is None:
        return _fact_resource(fact)
    return Resource("document", document.uuid, document.title, category=document.category, masked=document.masked)


def _fact_for(*, actor: User, fact_uuid: UUID | str, action: str) -> ClinicalFact:
    """Fetch and check in one step: missing and forbidden both raise RecordUnavailable (404)."""
    fact = (
        ClinicalFact.objects.select_related("record", "source_document")
        .prefetch_related(_open_rectifications())
        .filter(uuid=fact_uuid)
        .first()
    )
    if fact is None:
        raise RecordUnavailable(journal_missing_record(actor=actor, record_uuid=None, action=action))
    resource = _read_resource(fact) if action == Action.PROFILE_READ else _fact_resource(fact)
    decision = authorize(actor=actor, record=fact.record, action=action, resource=resource)
    if not decision.allowed:
        raise RecordUnavailable(decision)
    return fact


def fact_get_for(*, actor: User, fact_uuid: UUID | str) -> ProfileFact:
    fact = _fact_for(actor=actor, fact_uuid=fact_uuid, action=Action.PROFILE_READ)
    return ProfileFact(fact=fact, rectifications=fact.open_rectifications)


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
    fields = {
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
    decision = authorize(
        actor=actor, record=record, action=Action.PROFILE_EDIT, resource=Resource("fact", None, str(display)[:300])
    )
    if not decision.allowed:
        raise RecordUnavailable(decision)
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
        return ClinicalFact.objects.create(
            record=record,
            kind=kind,
            origin=FactOrigin.DECLARED,
            declared_by=actor,
            declared_by_label=str(actor)[:200],
            code_known=bool(fields["code"]),
            **fields,
        )


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
        ClinicalFact.objects.filter(pk=fact.pk).delete()
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
    rectification = RectificationRequest.objects.select_related("fact__record").filter(uuid=rectification_uuid).first()
    if rectification is None:
        raise RecordUnavailable(journal_missing_record(actor=actor, record_uuid=None, action=Action.PROFILE_EDIT))
    fact = rectification.fact
    decision = authorize(actor=actor, record=fact.record, action=Action.PROFILE_EDIT, resource=_fact_resource(fact))
    if not decision.allowed:
        raise RecordUnavailable(decision)
    if rectification.withdrawn_at is None:
        with transaction.atomic():
            rectification.withdrawn_at = timezone.now()
            rectification.save(update_fields=["withdrawn_at"])
    return rectification
