"""Reads of consents data, always for an actor and through the access policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from apps.access.door import get_for
from apps.access.policy import Action, Decision, Resource, decide
from apps.consents.models import DirectivesChange, PersonalDirectives
from apps.records.models import DocumentCategory, DocumentStatus, Record
from apps.records.selectors import documents_visible_to

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from apps.accounts.models import User
    from apps.records.models import Document

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
    can_edit: bool
    # The linked document, when this reader may see it in a list of the record's documents (never
    # directives.advance_directives_document, which ignores who reads).
    document: Document | None = None

    @property
    def links_unseen_document(self) -> bool:
        """A document is linked that this reader may not see: saving leaves that link as it is."""
        return self.document is None and self.directives.advance_directives_document_id is not None


def directives_get_for(*, actor: User, record_uuid: UUID | str) -> DirectivesView:
    """Fetch and check in one step (a journaled read); forbidden and missing both raise RecordUnavailable."""
    record, decision = get_for(
        actor, Record, record_uuid, Action.PROFILE_READ, resource_for=lambda found, _action: directives_resource(found)
    )
    resource = directives_resource(record)
    # The profession matrix ("directives" category) already refused a professional who may not read them.
    directives = PersonalDirectives.objects.filter(record=record).first() or PersonalDirectives(record=record)
    document = None
    if directives.advance_directives_document_id is not None:
        linked = documents_visible_to(actor=actor, record=record).filter(pk=directives.advance_directives_document_id)
        document = linked.only("uuid", "title").first()
    can_edit = decide(actor=actor, record=record, action=Action.PROFILE_EDIT, resource=resource).allowed
    return DirectivesView(record=record, decision=decision, directives=directives, can_edit=can_edit, document=document)


def directives_documents(*, actor: User, record: Record) -> QuerySet[Document]:
    """The documents of the record that may hold the advance directives, among those the actor may
    see in a list (a parent never sees a minor's confidential one, even to choose it)."""
    return (
        documents_visible_to(actor=actor, record=record)
        .filter(category__in=DIRECTIVES_DOCUMENT_CATEGORIES)
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
