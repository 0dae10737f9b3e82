"""Reading a record's documents: the timeline, its filters, search and keyset paging."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, TypeAlias, TypedDict, TypeVar

from django.core import signing
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate

from apps.access.door import require
from apps.access.policy import Action
from apps.records.models import DocumentCategory, Record
from apps.records.selectors import documents_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from apps.accounts.models import User
    from apps.records.models import Document


class _SortDay(TypedDict):
    sort_day: date  # the care date, else the day it was added: what the timeline orders by


if TYPE_CHECKING:
    TimelineDocument: TypeAlias = WithAnnotations[Document, _SortDay]
# _search keeps whatever annotations its documents carry.
_D = TypeVar("_D", bound="Document")

PAGE_SIZE = 50
_CURSOR_SALT = "healthspace.timeline"


@dataclass(frozen=True)
class TimelineFilters:
    category: str = ""
    author: str = ""
    organisation: str = ""
    source: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""


@dataclass
class TimelinePage:
    documents: list[TimelineDocument]
    next_cursor: str = ""
    category_counts: dict[str, int] = field(default_factory=dict)


def _ordered(documents: QuerySet[Document]) -> QuerySet[TimelineDocument]:
    return documents.annotate(sort_day=Coalesce(F("care_date"), TruncDate("created_at"))).order_by("-sort_day", "-id")


def _search(documents: QuerySet[_D], query: str) -> QuerySet[_D]:
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        # The stored vector (trigger-maintained, GIN-indexed; migration 0006): nothing is computed
        # per document at query time. The title substring keeps partial words ("glyc") finding titles.
        return documents.filter(
            Q(search_vector=SearchQuery(query, config="french", search_type="websearch")) | Q(title__icontains=query)
        )
    # The embedded default has no stemming: a plain case-insensitive match.
    terms = [term for term in query.split() if term]
    for term in terms:
        documents = documents.filter(
            Q(title__icontains=term) | Q(extracted_text__icontains=term) | Q(type_display__icontains=term)
        )
    return documents


def _filtered(documents: QuerySet[TimelineDocument], filters: TimelineFilters) -> QuerySet[TimelineDocument]:
    if filters.category in DocumentCategory.values:
        documents = documents.filter(category=filters.category)
    if filters.author:
        documents = documents.filter(author_name__icontains=filters.author)
    if filters.organisation:
        documents = documents.filter(organisation__icontains=filters.organisation)
    if filters.source:
        documents = documents.filter(source=filters.source)
    if filters.status:
        documents = documents.filter(status=filters.status)
    if filters.date_from:
        documents = documents.filter(sort_day__gte=filters.date_from)
    if filters.date_to:
        documents = documents.filter(sort_day__lte=filters.date_to)
    if filters.query:
        documents = _search(documents, filters.query)
    return documents


def encode_cursor(document: TimelineDocument) -> str:
    # Opaque and signed; it names the last document by its UUID (no integer key leaves the server).
    return signing.dumps([document.sort_day.isoformat(), str(document.uuid)], salt=_CURSOR_SALT)


def _after_cursor(documents: QuerySet[TimelineDocument], cursor: str) -> QuerySet[TimelineDocument]:
    try:
        day, last_uuid = signing.loads(cursor, salt=_CURSOR_SALT)
        day = date.fromisoformat(day)
    except (signing.BadSignature, ValueError, TypeError):
        return documents  # a damaged cursor starts again from the top
    pk = documents.filter(uuid=last_uuid).values_list("pk", flat=True).first() or 0
    return documents.filter(Q(sort_day__lt=day) | Q(sort_day=day, id__lt=pk))


def documents_timeline(
    *, actor: User, record: Record, filters: TimelineFilters | None = None, cursor: str = "", limit: int = PAGE_SIZE
) -> TimelinePage:
    """One page of the record's documents, newest first, for someone the policy lets list them."""
    decision = require(actor=actor, record=record, action=Action.DOCUMENT_LIST)
    visible = documents_visible_to(actor=actor, record=record, decision=decision)
    filters = filters or TimelineFilters()
    documents = _filtered(_ordered(visible), filters)
    counts = dict(
        _filtered(_ordered(visible), TimelineFilters(query=filters.query))
        .order_by()
        .values_list("category")
        .annotate(n=Count("id"))
    )
    # The page shows neither the text nor the vector: up to 200 kB per document left in the database.
    documents = documents.defer("extracted_text", "search_vector")
    page = list(_after_cursor(documents, cursor)[: limit + 1]) if cursor else list(documents[: limit + 1])
    for document in page:
        document.record = record  # the one record they belong to, not one query per document
    next_cursor = encode_cursor(page[limit - 1]) if len(page) > limit else ""
    return TimelinePage(documents=page[:limit], next_cursor=next_cursor, category_counts=counts)
