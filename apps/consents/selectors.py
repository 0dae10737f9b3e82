"""Reads of consents data, always for an actor and through the access policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from apps.access.matrix import categories_for
from apps.access.policy import PROFESSIONAL_BASES, Action, Decision, Resource, authorize, decide, journal_missing_record
from apps.consents.models import DirectivesChange, PersonalDirectives
from apps.records.models import Document, DocumentCategory, DocumentStatus, Record
from apps.records.selectors import RecordUnavailable

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from apps.accounts.models import User

DIRECTIVES_FIELDS = (
    "trusted_person_name",
    "trusted_person_relationship",
    "trusted_person_phone",
    "trusted_person_email",
    "advance_directives_text",
    "advance_directives_document",
    "organ_donation",
)
# Where a scanned or written advance directives file is filed in a record.
DIRECTIVES_DOCUMENT_CATEGORIES = (DocumentCategory.REPORT, DocumentCategory.OTHER)


def directives_resource(record: Record) -> Resource:
    return Resource("directives", record.uuid, "personal directives", category="directives")


@dataclass(frozen=True)
class DirectivesView:
    record: Record
    decision: Decision
    directives: PersonalDirectives  # unsaved (all empty) when the person never filled them in
    visible: bool  # False: a professional whose profession does not see advance directives
    can_edit: bool


def directives_get_for(*, actor: User, record_uuid: UUID | str) -> DirectivesView:
    """Fetch and check in one step (a journaled read); forbidden and missing both raise RecordUnavailable."""
    record = Record.objects.filter(uuid=record_uuid).first()
    if record is None:
        raise RecordUnavailable(
            journal_missing_record(actor=actor, record_uuid=_as_uuid(record_uuid), action=Action.PROFILE_READ)
        )
    resource = directives_resource(record)
    decision = authorize(actor=actor, record=record, action=Action.PROFILE_READ, resource=resource)
    if not decision.allowed:
        raise RecordUnavailable(decision)
    # The profession matrix ("directives" category) decides what a professional sees here.
    visible = decision.basis not in PROFESSIONAL_BASES or "directives" in categories_for(actor.profession)
    directives = PersonalDirectives.objects.filter(record=record).select_related(
        "advance_directives_document"
    ).first() or PersonalDirectives(record=record)
    can_edit = decide(actor=actor, record=record, action=Action.PROFILE_EDIT, resource=resource).allowed
    return DirectivesView(record=record, decision=decision, directives=directives, visible=visible, can_edit=can_edit)


def directives_documents(*, record: Record) -> QuerySet[Document]:
    """The documents of the record that may hold the advance directives."""
    return (
        Document.objects.filter(record=record, category__in=DIRECTIVES_DOCUMENT_CATEGORIES)
        .exclude(status=DocumentStatus.REJECTED)
        .order_by("-created_at", "-id")
    )


def directives_snapshot(directives: PersonalDirectives) -> dict[str, Any]:
    """The directives as JSON, for the history."""
    data: dict[str, Any] = {
        name: getattr(directives, name) for name in DIRECTIVES_FIELDS if name != "advance_directives_document"
    }
    document = directives.advance_directives_document
    data["advance_directives_document"] = str(document.uuid) if document else None
    data["advance_directives_document_title"] = document.title if document else ""
    return data


def directives_history(*, record: Record, limit: int = 20) -> list[DirectivesChange]:
    """The last changes; the caller has already been authorized to read the directives."""
    return list(DirectivesChange.objects.filter(record=record).select_related("changed_by")[:limit])


def _as_uuid(value: UUID | str) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        return None
