"""Reads of structured facts, for someone the access policy already let in."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import connection
from django.db.models import Field, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from apps.access.door import get_for
from apps.access.policy import Action, Basis, authorize, document_scope
from apps.clinical.models import ClinicalFact, FactKind
from apps.records.models import DocumentStatus

if TYPE_CHECKING:
    from apps.access.policy import Decision
    from apps.accounts.models import User
    from apps.records.models import Document, Record


def facts_visible_to(*, actor: User, record: Record, decision: Decision | None = None) -> QuerySet[ClinicalFact]:
    """The record's facts this actor may see: the only way to list them.

    A fact is as visible as its source document (the same restrictions as the documents' lists:
    hidden, profession matrix, confidential from the parents); facts the person declared have
    none. Facts of refused documents never count. Decided (and journaled) as a read of the medical
    profile, unless ``decision`` is the one the caller already took for it. Refused: no fact."""
    if decision is None:
        decision = authorize(actor=actor, record=record, action=Action.PROFILE_READ)
    elif decision.action != Action.PROFILE_READ:
        # A decision to list documents or read settings says nothing of who may read the profile.
        raise ValueError(f"facts are listed under a {Action.PROFILE_READ} decision, not {decision.action!r}")
    if not decision.allowed:
        return ClinicalFact.objects.none()
    # Checked on each fact's own document (one primary-key lookup, the join the rejected check
    # makes anyway), never by listing the record's visible documents: a summary that looks at a
    # few facts must not read every document of a large record.
    own_document = Q(source_document__record=record) & _through_source_document(
        document_scope(actor=actor, decision=decision)
    )
    # Declared facts, and those of deleted documents: a withheld one (its document was masked or
    # confidential) for the person only.
    no_document = Q(source_document__isnull=True)
    if decision.basis != Basis.OWNER:
        no_document &= Q(deleted_source_restricted=False)
    return (
        ClinicalFact.objects.filter(record=record)
        .exclude(source_document__status=DocumentStatus.REJECTED)
        .filter(no_document | own_document)
        .select_related("source_document")
    )


def _through_source_document(condition: Q) -> Q:
    """A condition on documents, as the same condition on a fact's source document."""
    prefixed = Q(_connector=condition.connector, _negated=condition.negated)
    for child in condition.children:
        if isinstance(child, Q):
            prefixed.children.append(_through_source_document(child))
        elif isinstance(child, tuple):
            lookup, value = child
            prefixed.children.append((f"source_document__{lookup}", value))
        else:  # a Q holds Qs and (lookup, value) pairs, nothing else
            raise TypeError(f"unexpected condition {child!r}")
    return prefixed


def _column(name: str) -> str:
    """The database column of one of ClinicalFact's concrete fields."""
    field = ClinicalFact._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise ValueError(f"ClinicalFact.{name} has no column")
    return field.column


def _things_sql() -> str:
    """A loose index scan over (record, kind, thing_key, ...): per kind, from one thing key to the
    next greater one, one index probe each (PostgreSQL 15 has no skip scan, SQLite's needs
    statistics); then the id of one fact of each thing."""
    quote = connection.ops.quote_name
    table, record, kind, key = (
        quote(name) for name in (ClinicalFact._meta.db_table, _column("record"), _column("kind"), _column("thing_key"))
    )
    pk = quote(_column("id"))
    kinds = " UNION ALL ".join(["SELECT %s AS kind"] * len(FactKind.values))
    of_kind = f"FROM {table} f WHERE f.{record} = %s AND f.{kind} = t.kind"
    first = f"SELECT f.{key} {of_kind}"
    # Only quoted identifiers from the model are formatted in; every value is a parameter.
    return f"""
        WITH RECURSIVE things(kind, thing_key) AS (
            SELECT t.kind, ({first} ORDER BY f.{key} LIMIT 1) FROM ({kinds}) t
            UNION ALL
            SELECT t.kind, ({first} AND f.{key} > t.thing_key ORDER BY f.{key} LIMIT 1)
            FROM things t WHERE t.thing_key IS NOT NULL
        )
        SELECT (SELECT f.{pk} {of_kind} AND f.{key} = t.thing_key LIMIT 1) FROM things t WHERE t.thing_key IS NOT NULL
    """  # noqa: S608


def facts_of_document(document: Document) -> QuerySet[ClinicalFact]:
    """What was extracted from one document, for someone the policy already let read that document
    (documents.document_get_for decided and journaled it): reading a document shows its facts."""
    return ClinicalFact.objects.filter(source_document=document)


def fact_for(*, actor: User, fact_uuid: UUID | str, action: str, prefetch: Prefetch | None = None) -> ClinicalFact:
    """One fact, fetched and decided (journaled) by the door: missing and forbidden are the same 404."""
    fact, _decision = fact_and_decision_for(actor=actor, fact_uuid=fact_uuid, action=action, prefetch=prefetch)
    return fact


def fact_and_decision_for(
    *, actor: User, fact_uuid: UUID | str, action: str, prefetch: Prefetch | None = None
) -> tuple[ClinicalFact, Decision]:
    """As fact_for, with the door's decision (to list the thing's other visible facts under it)."""
    # A fact drawn from a document is described as that document when read (the door's registry).
    facts = ClinicalFact.objects.select_related("record", "source_document")
    if prefetch is not None:
        facts = facts.prefetch_related(prefetch)
    return get_for(actor, facts, fact_uuid, action)


def things_of_record(record: Record) -> QuerySet[ClinicalFact]:
    """One fact of each thing (kind and thing key) of the record, visible or not: a handle for
    per-thing subqueries. Its cost grows with the number of things, not of facts."""
    params = [record.pk, *FactKind.values, record.pk, record.pk]  # in the order of the placeholders
    return ClinicalFact.objects.filter(pk__in=RawSQL(_things_sql(), params))  # noqa: S611 (see _things_sql)
