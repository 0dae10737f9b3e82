"""Reads of structured facts, for someone the access policy already let in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from apps.access.professional import visible_documents_filter
from apps.clinical.models import ClinicalFact, FactKind
from apps.records.models import DocumentStatus

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
        # Checked on each fact's own document (one primary-key lookup, the join the rejected
        # check makes anyway), never by listing the record's visible documents: a summary that
        # looks at a few facts must not read every document of a large record.
        own_document = Q(source_document__record=record) & _through_source_document(documents_visible)
        facts = facts.filter(Q(source_document__isnull=True) | own_document)
    return facts.select_related("source_document")


def _through_source_document(condition: Q) -> Q:
    """A condition on documents, as the same condition on a fact's source document."""
    prefixed = Q(_connector=condition.connector, _negated=condition.negated)
    for child in condition.children:
        if isinstance(child, Q):
            prefixed.children.append(_through_source_document(child))
        else:
            lookup, value = child
            prefixed.children.append((f"source_document__{lookup}", value))
    return prefixed


def _things_sql() -> str:
    """A loose index scan over (record, kind, thing_key, ...): per kind, from one thing key to the
    next greater one, one index probe each (PostgreSQL 15 has no skip scan, SQLite's needs
    statistics); then the id of one fact of each thing."""
    quote = connection.ops.quote_name
    table, record, kind, key = (
        quote(name)
        for name in (
            ClinicalFact._meta.db_table,
            ClinicalFact._meta.get_field("record").column,
            ClinicalFact._meta.get_field("kind").column,
            ClinicalFact._meta.get_field("thing_key").column,
        )
    )
    pk = quote(ClinicalFact._meta.pk.column)
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


def things_of_record(record: Record) -> QuerySet[ClinicalFact]:
    """One fact of each thing (kind and thing key) of the record, visible or not: a handle for
    per-thing subqueries. Its cost grows with the number of things, not of facts."""
    params = [record.pk, *FactKind.values, record.pk, record.pk]  # in the order of the placeholders
    return ClinicalFact.objects.filter(pk__in=RawSQL(_things_sql(), params))  # noqa: S611 (see _things_sql)
