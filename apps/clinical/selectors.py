"""Reads of structured facts, for someone the access policy already let in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from apps.access.professional import visible_documents_filter
from apps.clinical.models import ClinicalFact
from apps.records.models import Document, DocumentStatus

if TYPE_CHECKING:
    from apps.access.policy import Decision
    from apps.accounts.models import User
    from apps.records.models import Record


def facts_visible_to(*, actor: User, record: Record, decision: Decision) -> QuerySet[ClinicalFact]:
    """A fact is as visible as its source document (hidden, profession matrix, confidential from
    parents); declared facts have none. Facts of refused documents never count."""
    facts = ClinicalFact.objects.filter(record=record).exclude(source_document__status=DocumentStatus.REJECTED)
    documents_visible = visible_documents_filter(actor, decision)
    if documents_visible != Q():
        visible_ids = Document.objects.filter(record=record).filter(documents_visible).values("pk")
        facts = facts.filter(Q(source_document__isnull=True) | Q(source_document__in=visible_ids))
    return facts.select_related("source_document")
