"""What documents say about the person themselves, shown at the top of the summary: that the
person died, or an identity that is not quite the record's (a test identifier, other names).

Only from documents the reader may list, each flag with the document that says it: a reader who
may not see a document learns nothing from it here either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import F, Q
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext_lazy as _

from apps.access.policy import Action, decide
from apps.records.models import DocumentStatus
from apps.records.selectors import documents_visible_to

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from apps.accounts.models import User
    from apps.records.models import Record

# Enough to say it; a record whose documents all repeat it needs no longer list.
FLAGS_LIMIT = 5

# Document.identity_flags codes, in words (apps.records.documents.identity_flags).
IDENTITY_FLAG_LABELS: dict[str, _StrPromise] = {
    "ins_test_identifier": _("a test national identifier (INS), not a real person's"),
    "name_differs": _("other names than this record's"),
    "birth_date_differs": _("another birth date than this record's"),
}


@dataclass(frozen=True)
class SummaryFlag:
    kind: str  # "deceased" or "identity"
    document_id: str
    document_title: str
    document_date: date  # the document's date of care, else the day it was added
    deceased_on: date | None = None
    identity: list[str] = field(default_factory=list)  # Document.identity_flags codes
    identity_labels: list[str] = field(default_factory=list)  # the same, in words


def summary_flags(*, actor: User, record: Record) -> list[SummaryFlag]:
    """The flags the record's visible documents raise, newest first: one query (none when the
    reader may not list documents).

    The list decision is not journaled: the summary's own journaled read stands for it, as for
    the sources' titles (records.selectors.documents_shown_to)."""
    decision = decide(actor=actor, record=record, action=Action.DOCUMENT_LIST)
    if not decision.allowed:
        return []
    documents = (
        documents_visible_to(actor=actor, record=record, decision=decision)
        .filter(status=DocumentStatus.READY)
        .filter(Q(patient_deceased=True) | ~Q(identity_flags=[]))
        .only("uuid", "title", "care_date", "created_at", "patient_deceased", "patient_deceased_on", "identity_flags")
        .annotate(sort_day=Coalesce(F("care_date"), TruncDate("created_at")))  # as the timeline orders
        .order_by("-sort_day", "-pk")[:FLAGS_LIMIT]
    )
    flags = []
    for document in documents:
        source = (str(document.uuid), document.title, document.sort_date)
        if document.patient_deceased:
            flags.append(SummaryFlag("deceased", *source, deceased_on=document.patient_deceased_on))
        codes = [code for code in document.identity_flags or [] if code in IDENTITY_FLAG_LABELS]
        if codes:
            labels = [str(IDENTITY_FLAG_LABELS[code]) for code in codes]
            flags.append(SummaryFlag("identity", *source, identity=codes, identity_labels=labels))
    # A death first: it changes how everything else on the page is read.
    return sorted(flags, key=lambda flag: flag.kind != "deceased")
