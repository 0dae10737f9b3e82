"""FHIR R4 resources → ParsedFact: one function per resource type, never dropping an entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from apps.clinical.parsing import ParsedFact

from .common import as_date, collapse, make_fact, to_decimal

Resource = Any  # a fhir.resources.R4B model instance; their attributes are dynamic
Resolver = Callable[[Any, Resource], Resource | None]  # (Reference, referring resource) → resource


def concept_fields(concept: Any) -> dict[str, Any]:
    """code_system, code, display and code_known from a CodeableConcept.

    The first coding with a code is the code; the display is that coding's display, or
    the concept's text. Without any code the text is kept and the code marked unknown.
    """
    codings = list(getattr(concept, "coding", None) or []) if concept else []
    coded = next((coding for coding in codings if coding.code), None)
    text = collapse(getattr(concept, "text", None)) if concept else ""
    if coded is None:
        display = text or next((collapse(coding.display) for coding in codings if coding.display), "")
        return {"display": display or "(no description)", "code_known": False}
    display = collapse(coded.display) or text or coded.code
    return {"code_system": coded.system or "", "code": coded.code, "display": display, "code_known": True}


def concept_text(concept: Any) -> str:
    """The readable text of a CodeableConcept (value of an observation, reaction...)."""
    if not concept:
        return ""
    if concept.text:
        return collapse(concept.text)
    for coding in concept.coding or []:
        if coding.display or coding.code:
            return collapse(coding.display or coding.code)
    return ""


def status_code(concept: Any) -> str:
    """clinicalStatus-like CodeableConcepts: the code itself ("active", "resolved")."""
    for coding in getattr(concept, "coding", None) or []:
        if coding.code:
            return coding.code
    return concept_text(concept)


def allergy_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    reactions = [
        concept_text(manifestation)
        for reaction in resource.reaction or []
        for manifestation in reaction.manifestation or []
    ]
    detail = "; ".join(part for part in (", ".join(filter(None, reactions)), _criticality(resource)) if part)
    return [
        make_fact(
            kind="allergy",
            **concept_fields(resource.code),
            status=status_code(resource.clinicalStatus),
            effective_date=_onset(resource),
            detail=detail,
        )
    ]


def _criticality(resource: Resource) -> str:
    return f"criticality: {resource.criticality}" if resource.criticality else ""


def _onset(resource: Resource) -> date | None:
    if resource.onsetDateTime:
        return as_date(resource.onsetDateTime)
    if resource.onsetPeriod:
        return as_date(resource.onsetPeriod.start)
    return None


def condition_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    return [
        make_fact(
            kind="condition",
            **concept_fields(resource.code),
            status=status_code(resource.clinicalStatus),
            effective_date=_onset(resource),
            effective_end=as_date(resource.abatementDateTime),
        )
    ]


def medication_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    """MedicationStatement and MedicationRequest; the drug may be a referenced Medication."""
    if resource.medicationCodeableConcept:
        coded = concept_fields(resource.medicationCodeableConcept)
    else:
        coded = _referenced_medication(resource, resolve)
    dosages = resource.dosage if resource.get_resource_type() == "MedicationStatement" else resource.dosageInstruction
    start, end = _medication_period(resource)
    return [
        make_fact(
            kind="medication",
            **coded,
            status=resource.status or "",
            effective_date=start,
            effective_end=end,
            detail="; ".join(filter(None, (_dosage_text(dosage) for dosage in dosages or []))),
        )
    ]


def _referenced_medication(resource: Resource, resolve: Resolver) -> dict[str, Any]:
    reference = resource.medicationReference
    medication = resolve(reference, resource) if reference else None
    if medication is not None and medication.code:
        return concept_fields(medication.code)
    display = collapse(getattr(reference, "display", None)) or "(medication not described)"
    return {"display": display, "code_known": False}


def _medication_period(resource: Resource) -> tuple[date | None, date | None]:
    if resource.get_resource_type() == "MedicationRequest":
        return as_date(resource.authoredOn), None
    if resource.effectivePeriod:
        return as_date(resource.effectivePeriod.start), as_date(resource.effectivePeriod.end)
    return as_date(resource.effectiveDateTime), None


def _dosage_text(dosage: Any) -> str:
    """The dosage as written, else a short reconstruction (dose, route, as needed)."""
    if dosage.text:
        return collapse(dosage.text)
    parts = []
    for dose_and_rate in dosage.doseAndRate or []:
        quantity = dose_and_rate.doseQuantity
        if quantity is not None and quantity.value is not None:
            parts.append(f"{quantity.value} {quantity.unit or quantity.code or ''}".strip())
    if dosage.route:
        parts.append(concept_text(dosage.route))
    if dosage.asNeededBoolean:
        parts.append("as needed")
    return ", ".join(part for part in parts if part)


def immunization_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    return [
        make_fact(
            kind="immunization",
            **concept_fields(resource.vaccineCode),
            status=resource.status or "",
            effective_date=as_date(resource.occurrenceDateTime),
            detail=collapse(resource.occurrenceString),
        )
    ]


def observation_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    """One fact per observation, or one per component (blood pressure) when it has components.

    A panel with components but no value of its own is represented by its components; a
    panel with neither (e.g. an IPS "Blood typing" grouping with hasMember) is kept as is.
    """
    shared = {"status": resource.status or "", "effective_date": _observation_date(resource)}
    components = resource.component or []
    facts = [_observation_fact(component, resource, shared) for component in components]
    if not components or _has_value(resource):
        facts.insert(0, _observation_fact(resource, resource, shared))
    return facts


def _observation_fact(source: Any, parent: Resource, shared: dict[str, Any]) -> ParsedFact:
    interpretation = source.interpretation or parent.interpretation
    return make_fact(
        kind="observation",
        **concept_fields(source.code),
        **shared,
        **_observation_value(source),
        **_reference_range(source.referenceRange),
        interpretation=status_code(interpretation[0]) if interpretation else "",
        detail=_absent_reason(source) or _notes(source),
    )


def _has_value(element: Any) -> bool:
    return any(getattr(element, name, None) is not None for name in _VALUE_FIELDS)


_VALUE_FIELDS = (
    "valueQuantity",
    "valueCodeableConcept",
    "valueString",
    "valueBoolean",
    "valueInteger",
    "valueRange",
    "valueRatio",
    "valueDateTime",
    "valuePeriod",
    "valueTime",
    "valueSampledData",
)


def _observation_value(source: Any) -> dict[str, Any]:
    if source.valueQuantity is not None:
        quantity = source.valueQuantity
        return {"value_decimal": to_decimal(quantity.value), "unit": quantity.unit or quantity.code or ""}
    if source.valueCodeableConcept is not None:
        return {"value_text": concept_text(source.valueCodeableConcept)}
    if source.valueInteger is not None:
        return {"value_decimal": to_decimal(source.valueInteger)}
    for name in ("valueString", "valueBoolean", "valueDateTime", "valueTime"):
        value = getattr(source, name, None)
        if value is not None:
            return {"value_text": str(value)}
    if source.valueRange is not None:
        return {"value_text": _range_text(source.valueRange)}
    return {}


def _range_text(value_range: Any) -> str:
    low = value_range.low.value if value_range.low else ""
    high = value_range.high.value if value_range.high else ""
    unit = (value_range.low or value_range.high).unit if (value_range.low or value_range.high) else ""
    return f"{low}–{high} {unit or ''}".strip()


def _reference_range(ranges: list[Any] | None) -> dict[str, Any]:
    if not ranges:
        return {}
    first = ranges[0]
    return {
        "reference_low": to_decimal(first.low.value) if first.low else None,
        "reference_high": to_decimal(first.high.value) if first.high else None,
        "reference_text": collapse(first.text),
    }


def _absent_reason(source: Any) -> str:
    reason = getattr(source, "dataAbsentReason", None)
    return f"no value: {concept_text(reason)}" if reason else ""


def _notes(source: Any) -> str:
    return "; ".join(collapse(note.text) for note in getattr(source, "note", None) or [] if note.text)


def _observation_date(resource: Resource) -> date | None:
    if resource.effectiveDateTime:
        return as_date(resource.effectiveDateTime)
    if resource.effectivePeriod:
        return as_date(resource.effectivePeriod.start)
    return as_date(resource.effectiveInstant or resource.issued)


FACT_BUILDERS: dict[str, Callable[[Resource, Resolver], list[ParsedFact]]] = {
    "AllergyIntolerance": allergy_facts,
    "Condition": condition_facts,
    "MedicationStatement": medication_facts,
    "MedicationRequest": medication_facts,
    "Immunization": immunization_facts,
    "Observation": observation_facts,
}
