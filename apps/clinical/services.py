"""Writes of structured facts. Called by the import pipeline inside its transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from apps.clinical.models import ClinicalFact, FactOrigin
from apps.clinical.units import fact_units_fill

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.clinical.parsing import ParsedDocument
    from apps.records.models import Document, Record


_LIMIT = Decimal("1e14")  # what numeric(20, 6) holds


def _fits(value: Decimal | None) -> Decimal | None:
    """Rounded to the column's 6 decimals; None (kept as text) when too large to store."""
    if value is None or not value.is_finite() or abs(value) >= _LIMIT:
        return None
    return value.quantize(Decimal("0.000001"))


def facts_from_parsed(*, document: Document, parsed: ParsedDocument) -> list[ClinicalFact]:
    """Store every fact the source brought, each pointing back to its document."""
    facts = [
        ClinicalFact(
            record=document.record,
            source_document=document,
            kind=fact.kind,
            code_system=fact.code_system[:200],
            code=fact.code[:100],
            display=(fact.display or fact.value_text or "?")[:500],
            status=fact.status[:50],
            effective_date=fact.effective_date,
            effective_end=fact.effective_end,
            value_decimal=_fits(fact.value_decimal),
            value_text=(
                fact.value_text
                or (
                    str(fact.value_decimal)
                    if _fits(fact.value_decimal) is None and fact.value_decimal is not None
                    else ""
                )
            )[:500],
            unit=fact.unit[:50],
            reference_low=_fits(fact.reference_low),
            reference_high=_fits(fact.reference_high),
            reference_text=fact.reference_text[:200],
            interpretation=fact.interpretation[:50],
            detail=fact.detail[:500],
            code_known=fact.code_known,
            assertion=fact.assertion,
            criticality=fact.criticality[:20],
            category=fact.category[:100],
            group_label=fact.group_label[:300],
            source_label=document.title[:300],
        )
        for fact in parsed.facts
    ]
    for fact in facts:
        fact_units_fill(fact)  # the value in its test's unit, and its series (apps/clinical/units.py)
    document.facts.all().delete()  # a re-run replaces, never duplicates
    return ClinicalFact.objects.bulk_create(facts, batch_size=500)


def facts_withhold_source(*, document: Document) -> int:
    """Before a masked or confidential document is deleted: its facts stay (as "source deleted"),
    seen by the person only, as nobody can check the document's rules once it is gone."""
    return ClinicalFact.objects.filter(source_document=document).update(deleted_source_restricted=True)


def declared_fact_create(*, actor: User, record: Record, kind: str, fields: dict[str, Any]) -> ClinicalFact:
    """Store a fact the person (or someone acting for them) declared, checked and decided by the caller."""
    fact = ClinicalFact(
        record=record,
        kind=kind,
        origin=FactOrigin.DECLARED,
        declared_by=actor,
        declared_by_label=str(actor)[:200],
        code_known=bool(fields["code"]),
        **fields,
    )
    fact_units_fill(fact)
    fact.save(force_insert=True)
    return fact


def fact_remove(*, fact: ClinicalFact) -> None:
    """Delete one fact, decided by the caller (a declared fact its author withdraws)."""
    ClinicalFact.objects.filter(pk=fact.pk).delete()
