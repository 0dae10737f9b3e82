"""Reads of records, always for an actor and through the access policy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import models

from apps.access.door import get_for
from apps.access.policy import (
    Action,
    Decision,
    Resource,
    authorize,
    authorize_many,
    decide,
    document_scope,
    reachable_record_filter,
)
from apps.accounts.models import User
from apps.records.models import Document, Record


def records_for(*, actor: User) -> list[Record]:
    """The records the actor may open, each listing journaled."""
    condition = reachable_record_filter(actor=actor)
    if condition is None:
        return []
    candidates = list(Record.objects.filter(condition).distinct().order_by("birth_date", "pk"))
    # Candidates the actor did not ask for (a blocked professional's old care relationship)
    # are decided but only the records actually listed are journaled: a refusal the
    # person never attempted would only add noise to the patient's history.
    return [
        record
        for record, decision in authorize_many(
            actor=actor, records=candidates, action=Action.RECORD_LIST, journal_denials=False
        )
        if decision.allowed
    ]


def record_get_for(
    *, actor: User, record_uuid: UUID | str, action: str = Action.RECORD_VIEW
) -> tuple[Record, Decision]:
    """Fetch and check in one step; raises RecordUnavailable (a 404) when either fails."""
    return get_for(actor, Record, record_uuid, action)


def record_followers(*, record: Record) -> list[User]:
    """Who is told about what happens in a record: its owner and the parents managing it."""
    from apps.accounts.models import User as UserModel

    followers = UserModel.objects.filter(
        models.Q(own_record=record) | models.Q(guardianships__record=record, guardianships__ended_at__isnull=True),
        is_active=True,
    ).distinct()
    return list(followers)


def documents_visible_to(*, actor: User, record: Record, decision: Decision | None = None) -> models.QuerySet[Document]:
    """The record's documents this actor may see in a list: the only way to list them.

    Decided (and journaled) as a list of documents, unless ``decision`` is the one the caller
    already took for that list (the timeline's). The same restrictions that decide for one
    document filter the list (access.policy.document_scope). Refused: an empty list.
    """
    if decision is None:
        decision = authorize(actor=actor, record=record, action=Action.DOCUMENT_LIST)
    elif decision.action != Action.DOCUMENT_LIST:
        # A decision to read settings or the profile says nothing of who may list documents.
        raise ValueError(f"documents are listed under a {Action.DOCUMENT_LIST} decision, not {decision.action!r}")
    return Document.objects.filter(record=record).filter(document_scope(actor=actor, decision=decision))


# A deleted document's category, masking and confidentiality went with it: what still names it (a
# journal entry, a fact's kept source title) is decided as the most kept document there could be
# (hidden, confidential from the parents, of a category no profession's matrix holds).
GONE_DOCUMENT = Resource("document", None, category="(deleted)", masked=True, confidential=True)


def may_see_any_document(*, actor: User, record: Record, memo: dict[str, Any] | None = None) -> bool:
    """Whether the actor may read any document the record could hold, however kept: who may read
    the title that a deleted document left behind. Decided, not journaled (the caller's read is)."""
    return decide(actor=actor, record=record, action=Action.DOCUMENT_READ, resource=GONE_DOCUMENT, memo=memo).allowed


@dataclass(frozen=True)
class ShownDocuments:
    """Which documents a page that names documents (a fact's source) may name to its reader."""

    ids: frozenset[int]  # among the documents the page names, those the reader may see
    gone_titles: bool = False  # the reader may read the titles deleted documents left behind

    def shows(self, document_id: int | None) -> bool:
        return document_id is not None and document_id in self.ids


def documents_shown_to(
    *, actor: User, record: Record, among: Iterable[int | None], gone_named: bool = False
) -> ShownDocuments:
    """Of the documents ``among`` (primary keys: the sources of the facts on a page), those the actor
    may see, once for the page: one list decision, one query for the documents named (and, when the
    page names a deleted source, ``gone_named``, one decision on it).

    Someone who may read the profile but not list documents (a caregiver with "read profile", a
    mandate to print the summary) reads each fact "from a document", never its title or link. The
    decisions are not journaled: the page's own decision (the profile read) stands for them, and a
    refused list on every profile read would fill the person's history with refusals never asked for.
    """
    memo: dict[str, Any] = {}
    gone_titles = gone_named and may_see_any_document(actor=actor, record=record, memo=memo)
    decision = decide(actor=actor, record=record, action=Action.DOCUMENT_LIST, memo=memo)
    wanted = {pk for pk in among if pk is not None}
    if not decision.allowed or not wanted:
        return ShownDocuments(ids=frozenset(), gone_titles=gone_titles)
    visible = documents_visible_to(actor=actor, record=record, decision=decision).filter(pk__in=wanted)
    return ShownDocuments(ids=frozenset(visible.values_list("pk", flat=True)), gone_titles=gone_titles)


def document_uuids_shown_to(
    *, actor: User, record: Record, named: Iterable[UUID | None], decision: Decision | None = None
) -> frozenset[UUID]:
    """Of the documents ``named`` by id (in a journal entry, a notice, a pushed status), those in the
    actor's own list of the record now: one list decision and one query, whatever the number.

    Not journaled: the caller's own journaled act (reading the history, the notices, opening the
    live page) stands for it; a decision per named document would fill the person's history."""
    wanted = {uuid for uuid in named if uuid is not None}
    if decision is None:
        decision = decide(actor=actor, record=record, action=Action.DOCUMENT_LIST)
    if not wanted or not decision.allowed:
        return frozenset()
    visible = documents_visible_to(actor=actor, record=record, decision=decision).filter(uuid__in=wanted)
    return frozenset(visible.values_list("uuid", flat=True))


def documents_kept_from(*, actor: User, record: Record, decision: Decision) -> bool:
    """Whether the record holds a document that ``decision`` keeps from the actor (e.g. so that a PDF
    someone made of more than the actor may see never reaches them)."""
    if not decision.allowed:
        return True
    shown = Document.objects.filter(record=record).filter(document_scope(actor=actor, decision=decision))
    return Document.objects.filter(record=record).exclude(pk__in=shown.values("pk")).exists()
