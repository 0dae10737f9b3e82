"""FHIR R4 resources → ParsedFact: one function per resource type, never dropping an entry.

What the source asserts is kept apart from what it names: a refuted allergy, a "not-done"
vaccination or a procedure not performed is ``absent``; an IPS "no known allergies" (or a
refuted allergy to "Substance") is ``none_known`` with a readable name, never an allergy
called "Substance".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from apps.clinical.parsing import ParsedFact

from .common import as_date, clip, collapse, make_fact, negated_substance_label, no_known_label, to_decimal

Resource = Any  # a fhir.resources.R4B model instance; their attributes are dynamic
Resolver = Callable[[Any, Resource], Resource | None]  # (Reference, referring resource) → resource

PRESENT, ABSENT, NONE_KNOWN = "present", "absent", "none_known"  # apps.clinical.models.FactAssertion
ENTERED_IN_ERROR = "entered-in-error"
GROUP_LABEL_LIMIT = 300  # ClinicalFact.group_label

# HL7 category code systems: their codes ("laboratory", "problem-list-item") are stable
# values the application can test; any other category is kept as its readable text.
STANDARD_CATEGORY_SYSTEMS = frozenset(
    {
        "http://terminology.hl7.org/CodeSystem/observation-category",
        "http://terminology.hl7.org/CodeSystem/condition-category",
        "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
        "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
        "http://terminology.hl7.org/CodeSystem/medication-statement-category",
        "http://terminology.hl7.org/CodeSystem/medication-admin-category",
    }
)

# Our own medication category: which kind of statement the source makes about the drug.
MEDICATION_CATEGORIES = {
    "MedicationRequest": "prescription",
    "MedicationStatement": "statement",
    "MedicationAdministration": "administration",
}


# --- concepts ----------------------------------------------------------------------------


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


def concept_label(concept: Any) -> str:
    """A name a reader can read (text or a coding's display), never a bare code: "" if none."""
    if not concept:
        return ""
    return collapse(concept.text) or next((collapse(c.display) for c in concept.coding or [] if c.display), "")


def status_code(concept: Any) -> str:
    """clinicalStatus-like CodeableConcepts: the code itself ("active", "resolved")."""
    for coding in getattr(concept, "coding", None) or []:
        if coding.code:
            return coding.code
    return concept_text(concept)


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept else []


def none_known_fields(concept: Any) -> dict[str, Any]:
    """assertion none_known and a readable name when the concept says "no known ..."; else {}.

    The source's code is kept (the fact is still coded), only the name is made readable
    (the SNOMED CT term "No known food allergy (situation)" → "No known food allergies").
    """
    for coding in _codings(concept):
        label = no_known_label(coding.system or "", coding.code or "")
        if label:
            return {"code_system": coding.system, "code": coding.code, "display": label, "assertion": NONE_KNOWN}
    return {}


def _negated_substance_fields(concept: Any) -> dict[str, Any]:
    for coding in _codings(concept):
        label = negated_substance_label(coding.system or "", coding.code or "")
        if label:
            return {"display": label, "assertion": NONE_KNOWN}
    return {}


def _category(concepts: list[Any] | Any | None) -> str:
    """The category code from an HL7 category system, else the first readable category text."""
    items = concepts if isinstance(concepts, list) else [concepts] if concepts else []
    for concept in items:
        for coding in _codings(concept):
            if coding.code and coding.system in STANDARD_CATEGORY_SYSTEMS:
                return str(coding.code)
    return next((text for text in (concept_text(item) for item in items) if text), "")


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _number(value: object) -> str:
    """A decimal written without trailing zeros or exponent (8.0 → "8", 0.50 → "0.5")."""
    number = to_decimal(value)
    if number is None:
        return str(value) if value is not None else ""
    return f"{number.normalize():f}"


# --- verification (Condition, AllergyIntolerance) ----------------------------------------


def _verified(resource: Resource, coded: dict[str, Any], concept: Any) -> dict[str, Any]:
    """Status and assertion from clinicalStatus + verificationStatus, and "no known" codes.

    refuted → absent (a refuted allergy to a generic "Substance" is "no known allergies");
    entered-in-error → status "entered-in-error" whatever the clinical status says.
    """
    verification = status_code(resource.verificationStatus)
    status = ENTERED_IN_ERROR if verification == ENTERED_IN_ERROR else status_code(resource.clinicalStatus)
    fields: dict[str, Any] = {**coded, "status": status}
    if verification == "refuted":
        negated = _negated_substance_fields(concept) if resource.get_resource_type() == "AllergyIntolerance" else {}
        fields.update(negated or {"assertion": ABSENT})
        if not status:
            fields["status"] = "refuted"
        return fields
    fields.update(none_known_fields(concept))
    return fields


def _verification_note(resource: Resource) -> str:
    """Uncertain entries say so (unconfirmed, provisional, differential)."""
    verification = status_code(resource.verificationStatus)
    return verification if verification in ("unconfirmed", "provisional", "differential") else ""


# --- allergies ---------------------------------------------------------------------------


def allergy_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    reactions = [
        concept_text(manifestation)
        for reaction in resource.reaction or []
        for manifestation in reaction.manifestation or []
    ]
    return [
        make_fact(
            kind="allergy",
            **_verified(resource, concept_fields(resource.code), resource.code),
            effective_date=_onset(resource),
            criticality=resource.criticality or "",
            category=", ".join(str(item) for item in resource.category or []),
            detail=_join(", ".join(filter(None, reactions)), _verification_note(resource), _notes(resource)),
        )
    ]


def _onset(resource: Resource) -> date | None:
    if resource.onsetDateTime:
        return as_date(resource.onsetDateTime)
    if resource.onsetPeriod:
        return as_date(resource.onsetPeriod.start)
    return None


# --- conditions --------------------------------------------------------------------------


def condition_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    return [
        make_fact(
            kind="condition",
            **_verified(resource, concept_fields(resource.code), resource.code),
            effective_date=_onset(resource),
            effective_end=_abatement(resource),
            category=_category(resource.category),
            detail=_join(
                concept_text(resource.severity),
                ", ".join(filter(None, (concept_text(site) for site in resource.bodySite or []))),
                _verification_note(resource),
                collapse(resource.abatementString),
                _notes(resource),
            ),
        )
    ]


def _abatement(resource: Resource) -> date | None:
    if resource.abatementDateTime:
        return as_date(resource.abatementDateTime)
    if resource.abatementPeriod:
        return as_date(resource.abatementPeriod.end or resource.abatementPeriod.start)
    return None


# --- medications -------------------------------------------------------------------------


def medication_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    """MedicationRequest, MedicationStatement, MedicationAdministration; the drug may be a
    referenced Medication. ``category`` says which of the three the source made."""
    resource_type = resource.get_resource_type()
    if resource.medicationCodeableConcept:
        coded = concept_fields(resource.medicationCodeableConcept)
        coded.update(none_known_fields(resource.medicationCodeableConcept))
    else:
        coded = _referenced_medication(resource, resolve)
    start, end = _medication_period(resource)
    return [
        make_fact(
            kind="medication",
            **coded,
            status=resource.status or "",
            effective_date=start,
            effective_end=end,
            category=MEDICATION_CATEGORIES[resource_type],
            detail=_join(_medication_dosage(resource), _medication_reason(resource)),
            **_medication_assertion(resource, coded),
        )
    ]


def _medication_assertion(resource: Resource, coded: dict[str, Any]) -> dict[str, Any]:
    """A drug not taken, not given or explicitly not to be given is absent."""
    if coded.get("assertion"):
        return {}
    not_done = resource.status in ("not-taken", "not-done") or getattr(resource, "doNotPerform", None) is True
    return {"assertion": ABSENT} if not_done else {}


def _medication_dosage(resource: Resource) -> str:
    resource_type = resource.get_resource_type()
    if resource_type == "MedicationAdministration":
        return _administration_dosage_text(resource.dosage) if resource.dosage else ""
    dosages = resource.dosage if resource_type == "MedicationStatement" else resource.dosageInstruction
    return "; ".join(filter(None, (_dosage_text(dosage) for dosage in dosages or [])))


def _medication_reason(resource: Resource) -> str:
    """Why not taken / stopped (statusReason: a list, or one concept on MedicationRequest)."""
    reason = resource.statusReason
    reasons = reason if isinstance(reason, list) else [reason] if reason is not None else []
    return ", ".join(filter(None, (concept_text(item) for item in reasons)))


def _referenced_medication(resource: Resource, resolve: Resolver) -> dict[str, Any]:
    reference = resource.medicationReference
    medication = resolve(reference, resource) if reference else None
    if medication is not None and medication.code:
        return {**concept_fields(medication.code), **none_known_fields(medication.code)}
    display = collapse(getattr(reference, "display", None)) or "(medication not described)"
    return {"display": display, "code_known": False}


def _medication_period(resource: Resource) -> tuple[date | None, date | None]:
    if resource.get_resource_type() == "MedicationRequest":
        return as_date(resource.authoredOn), None
    if resource.effectivePeriod:
        return as_date(resource.effectivePeriod.start), as_date(resource.effectivePeriod.end)
    return as_date(resource.effectiveDateTime), None


def _dosage_text(dosage: Any) -> str:
    """The dosage as written, else a short reconstruction (dose, rhythm, route, as needed)."""
    if dosage.text:
        return collapse(dosage.text)
    parts = []
    for dose_and_rate in dosage.doseAndRate or []:
        parts.append(_quantity_text(dose_and_rate.doseQuantity))
    parts.append(_timing_text(dosage.timing))
    if dosage.route:
        parts.append(concept_text(dosage.route))
    if dosage.asNeededCodeableConcept:
        parts.append(f"as needed for {concept_text(dosage.asNeededCodeableConcept)}")
    elif dosage.asNeededBoolean:
        parts.append("as needed")
    parts.append(collapse(dosage.patientInstruction))
    return ", ".join(part for part in parts if part)


def _administration_dosage_text(dosage: Any) -> str:
    if dosage.text:
        return collapse(dosage.text)
    parts = [_quantity_text(dosage.dose), concept_text(dosage.route), concept_text(dosage.site)]
    if dosage.rateQuantity is not None:
        parts.append(f"at {_quantity_text(dosage.rateQuantity)}")
    return ", ".join(part for part in parts if part)


def _quantity_text(quantity: Any) -> str:
    if quantity is None or quantity.value is None:
        return ""
    return f"{_number(quantity.value)} {quantity.unit or quantity.code or ''}".strip()


_PERIOD_UNITS = {
    "s": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "d": ("day", "days"),
    "wk": ("week", "weeks"),
    "mo": ("month", "months"),
    "a": ("year", "years"),
}


def _timing_text(timing: Any) -> str:
    """A Timing in words: its code's text ("BID"), or "2 times a day", "every 8 hours"...

    Only a complete rhythm (period and unit) is written: a unit alone says nothing sure.
    """
    if timing is None:
        return ""
    if timing.code is not None:
        return concept_text(timing.code)
    repeat = timing.repeat
    if repeat is None or repeat.period is None or repeat.periodUnit not in _PERIOD_UNITS:
        return ""
    one, many = _PERIOD_UNITS[repeat.periodUnit]
    frequency = repeat.frequency or 1
    times = "once" if frequency == 1 else f"{frequency} times"
    if Decimal(str(repeat.period)) == 1:
        return f"{times} {'an' if one == 'hour' else 'a'} {one}"
    every = f"every {_number(repeat.period)} {many}"
    return every if frequency == 1 else f"{times} {every}"


# --- immunizations -----------------------------------------------------------------------


def immunization_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    coded = {**concept_fields(resource.vaccineCode), **none_known_fields(resource.vaccineCode)}
    if resource.status == "not-done" and not coded.get("assertion"):
        coded["assertion"] = ABSENT
    return [
        make_fact(
            kind="immunization",
            **coded,
            status=resource.status or "",
            effective_date=as_date(resource.occurrenceDateTime),
            detail=_join(collapse(resource.occurrenceString), concept_text(resource.statusReason)),
        )
    ]


# --- procedures --------------------------------------------------------------------------


def procedure_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    """A Procedure: what, when (date or period), where on the body, why; "not-done" is absent."""
    coded = {**concept_fields(resource.code), **none_known_fields(resource.code)}
    if resource.status == "not-done" and not coded.get("assertion"):
        coded["assertion"] = ABSENT
    start, end, performed_text = _performed(resource)
    sites = ", ".join(filter(None, (concept_text(site) for site in resource.bodySite or [])))
    return [
        make_fact(
            kind="procedure",
            **coded,
            status=resource.status or "",
            effective_date=start,
            effective_end=end,
            category=_category(resource.category),
            detail=_join(
                f"body site: {sites}" if sites else "",
                _reasons(resource, resolve),
                f"outcome: {concept_text(resource.outcome)}" if resource.outcome else "",
                concept_text(resource.statusReason),
                performed_text,
                _notes(resource),
            ),
        )
    ]


def _performed(resource: Resource) -> tuple[date | None, date | None, str]:
    if resource.performedDateTime:
        return as_date(resource.performedDateTime), None, ""
    if resource.performedPeriod:
        start, end = as_date(resource.performedPeriod.start), as_date(resource.performedPeriod.end)
        return start or end, end if start else None, ""
    if resource.performedString:
        return None, None, f"performed: {collapse(resource.performedString)}"
    return None, None, ""


def _reasons(resource: Resource, resolve: Resolver) -> str:
    reasons = [concept_text(reason) for reason in resource.reasonCode or []]
    for reference in resource.reasonReference or []:
        target = resolve(reference, resource)
        code = getattr(target, "code", None) if target is not None else None
        reasons.append(concept_text(code) if code is not None else collapse(reference.display))
    text = ", ".join(dict.fromkeys(filter(None, reasons)))
    return f"reason: {text}" if text else ""


# --- observations ------------------------------------------------------------------------


def observation_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    """One fact per observation, or one per component (blood pressure) when it has components.

    A panel with components but no value of its own is represented by its components (each
    grouped under the panel's name); a panel with neither (e.g. an IPS "Blood typing"
    grouping with hasMember) is kept as is.
    """
    shared = {
        "status": resource.status or "",
        "effective_date": _observation_date(resource),
        "category": _category(resource.category),
    }
    components = resource.component or []
    panel = concept_label(resource.code)
    facts = [_observation_fact(component, resource, {**shared, "group_label": panel}) for component in components]
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
        detail=_join(_absent_reason(source), _notes(source)),
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
    """Every FHIR value type: a number with its unit when there is one, else a text."""
    if source.valueQuantity is not None:
        quantity = source.valueQuantity
        return {"value_decimal": to_decimal(quantity.value), "unit": quantity.unit or quantity.code or ""}
    if source.valueCodeableConcept is not None:
        return {"value_text": concept_text(source.valueCodeableConcept)}
    if source.valueInteger is not None:
        return {"value_decimal": to_decimal(source.valueInteger)}
    if source.valueString is not None:
        return {"value_text": collapse(source.valueString)}
    if source.valueBoolean is not None:
        return {"value_text": "yes" if source.valueBoolean else "no"}
    for name in ("valueDateTime", "valueTime"):
        value = getattr(source, name, None)
        if value is not None:
            return {"value_text": value.isoformat() if hasattr(value, "isoformat") else str(value)}
    if source.valueRange is not None:
        return {"value_text": _range_text(source.valueRange)}
    if source.valueRatio is not None:
        return {"value_text": _ratio_text(source.valueRatio)}
    if source.valuePeriod is not None:
        start, end = as_date(source.valuePeriod.start), as_date(source.valuePeriod.end)
        return {"value_text": f"{start or ''} – {end or ''}".strip(" –")}
    if source.valueSampledData is not None:
        return {"value_text": "(sampled data: see the document)"}
    return {}


def _range_text(value_range: Any) -> str:
    low = _number(value_range.low.value) if value_range.low else ""
    high = _number(value_range.high.value) if value_range.high else ""
    unit = (value_range.low or value_range.high).unit if (value_range.low or value_range.high) else ""
    return f"{low}–{high} {unit or ''}".strip()


def _ratio_text(ratio: Any) -> str:
    """1:128 titres and mg/mL ratios, written as the source gives them."""
    numerator, denominator = _quantity_text(ratio.numerator), _quantity_text(ratio.denominator)
    if not (numerator and denominator):
        return numerator or denominator
    with_units = any(part.unit or part.code for part in (ratio.numerator, ratio.denominator))
    return f"{numerator}/{denominator}" if with_units else f"{numerator}:{denominator}"


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
    """Why there is no value ("no value: not performed"), from dataAbsentReason."""
    reason = getattr(source, "dataAbsentReason", None)
    if not reason:
        return ""
    text = collapse(reason.text) or next(
        (collapse(c.display) or (c.code or "").replace("-", " ") for c in reason.coding or [] if c.display or c.code),
        "",
    )
    return f"no value: {text}" if text else "no value"


def _notes(source: Any) -> str:
    return "; ".join(collapse(note.text) for note in getattr(source, "note", None) or [] if note.text)


def _observation_date(resource: Resource) -> date | None:
    if resource.effectiveDateTime:
        return as_date(resource.effectiveDateTime)
    if resource.effectivePeriod:
        return as_date(resource.effectivePeriod.start)
    return as_date(resource.effectiveInstant or resource.issued)


# --- reports -----------------------------------------------------------------------------


def diagnostic_report_facts(resource: Resource, resolve: Resolver) -> list[ParsedFact]:
    """The results a DiagnosticReport carries inside itself (contained Observations).

    Results that are entries of the bundle are read as entries; the bundle reader gives
    them the report's name as group_label.
    """
    label = concept_label(resource.code)
    facts: list[ParsedFact] = []
    for reference in resource.result or []:
        if not (getattr(reference, "reference", None) or "").startswith("#"):
            continue
        target = resolve(reference, resource)
        if target is not None and target.get_resource_type() == "Observation":
            facts.extend(with_group_label(observation_facts(target, resolve), label))
    return facts


def with_group_label(facts: list[ParsedFact], label: str) -> list[ParsedFact]:
    """Facts grouped under ``label`` unless a closer grouping (their own panel) already names them."""
    label = clip(collapse(label), GROUP_LABEL_LIMIT)
    for fact in facts:
        if label and not fact.group_label:
            fact.group_label = label
    return facts


FACT_BUILDERS: dict[str, Callable[[Resource, Resolver], list[ParsedFact]]] = {
    "AllergyIntolerance": allergy_facts,
    "Condition": condition_facts,
    "MedicationStatement": medication_facts,
    "MedicationRequest": medication_facts,
    "MedicationAdministration": medication_facts,
    "Immunization": immunization_facts,
    "Observation": observation_facts,
    "Procedure": procedure_facts,
    "DiagnosticReport": diagnostic_report_facts,
}
