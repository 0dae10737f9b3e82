"""FHIR R4 (JSON, or XML) → ParsedDocument.

The corpus and most senders speak R4 (4.0.1): the ``fhir.resources.R4B`` models read it
(the default ``fhir.resources`` package is R5 and rejects it).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource as ResourceModel
from lxml import etree

from apps.clinical.parsing import ParsedDocument, ParsedFact, ParseError, PatientIdentity

from .common import INS_OIDS, as_date, collapse, facts_summary, latest_date, sex_code
from .fhir_facts import FACT_BUILDERS, Resource, concept_label, with_group_label
from .xmlsafe import hardened_parser, local_name, parse_xml

FHIR_NS = "http://hl7.org/fhir"
XHTML_DIV = "{http://www.w3.org/1999/xhtml}div"
SYNTHEA_MARKERS = ("synthea", "synthetichealth")
PATIENT_SUMMARY = "60591-5"
# Directory resources: who and where care is given, never a person's health. A file made of
# nothing else (Synthea's hospitalInformation / practitionerInformation bundles) has nothing
# to add to a record, and must not be mistaken for a record of an unknown patient.
DIRECTORY_TYPES = frozenset(
    {
        "Organization",
        "OrganizationAffiliation",
        "Location",
        "Practitioner",
        "PractitionerRole",
        "HealthcareService",
        "Endpoint",
    }
)
NO_PATIENT_DETAIL = "only directory resources (organizations, locations, practitioners): no patient, no health data"


def parse_fhir(content: bytes) -> ParsedDocument:
    """A FHIR R4 Bundle (document, transaction, collection...) or a single resource."""
    resource = _load_xml(content) if _looks_like_xml(content) else _load_json(content)
    if resource.get_resource_type() == "Bundle":
        return _BundleReader(resource).document()
    return _single_resource_document(resource)


# --- loading -----------------------------------------------------------------------------


def _looks_like_xml(content: bytes) -> bool:
    return content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _model_class(resource_type: object) -> type[ResourceModel]:
    if not isinstance(resource_type, str) or not resource_type:
        raise ParseError("invalid_fhir", "no resourceType")
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError as error:
        raise ParseError("invalid_fhir", f"unknown resourceType {resource_type!r}") from error
    if not issubclass(model, ResourceModel):  # e.g. "Coding" is a data type, not a resource
        raise ParseError("invalid_fhir", f"{resource_type!r} is not a resource")
    return model


def _load_json(content: bytes) -> Resource:
    try:
        data = json.loads(content)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise ParseError("malformed_json", str(error)) from error
    model = _model_class(data.get("resourceType") if isinstance(data, dict) else None)
    try:
        return model.model_validate_json(content)
    except ValueError as error:  # pydantic's ValidationError
        raise ParseError("invalid_fhir", _short(error)) from error


def _load_xml(content: bytes) -> Resource:
    """FHIR XML (e.g. the IPS examples), through the same hardened parsing as CDA.

    fhir.resources' XML reader fails on XHTML narratives with tables (KeyError 'thead'),
    so the narrative ``<div>``s are emptied first: facts come from the structured
    elements, and the summary text is rebuilt from them.
    """
    root = parse_xml(content)
    if etree.QName(root).namespace != FHIR_NS:
        raise ParseError("invalid_fhir", f"not a FHIR XML resource: {local_name(root)}")
    model = _model_class(local_name(root))
    _empty_narratives(root)
    try:
        return model.model_validate_xml(etree.tostring(root), xmlparser=hardened_parser())
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ParseError("invalid_fhir", _short(error)) from error


def _empty_narratives(root: etree._Element) -> None:
    divs = [div for div in root.iter(XHTML_DIV) if etree.QName(div.getparent()).localname == "text"]
    for div in divs:
        for child in list(div):
            div.remove(child)
        div.text = ""


def _short(error: Exception) -> str:
    return collapse(str(error))[:500]


# --- patient -----------------------------------------------------------------------------


def patient_identity(patient: Resource) -> PatientIdentity:
    name = _official_name(patient.name or [])
    identifiers = [(ident.system or "", ident.value) for ident in patient.identifier or [] if ident.value]
    ins = next((value for system, value in identifiers if system.removeprefix("urn:oid:") in INS_OIDS), "")
    deceased_on = as_date(patient.deceasedDateTime)
    return PatientIdentity(
        family_name=collapse(name.family) if name else "",
        given_names=" ".join(collapse(given) for given in (name.given or [])) if name else "",
        birth_date=as_date(patient.birthDate),
        sex=sex_code(patient.gender),
        ins=ins,
        identifiers=identifiers,
        deceased=bool(patient.deceasedBoolean) or deceased_on is not None,
        deceased_on=deceased_on,
    )


def _official_name(names: list[Any]) -> Any:
    return next((name for name in names if name.use == "official"), names[0] if names else None)


def _person_name(resource: Resource | None) -> str:
    names = getattr(resource, "name", None)
    if not names or isinstance(names, str):
        return ""
    name = _official_name(names)
    if name.text:
        return collapse(name.text)
    return collapse(" ".join([*(name.given or []), name.family or ""]))


# --- bundles -----------------------------------------------------------------------------


class _BundleReader:
    """Reads one Bundle: resolves references between its entries, collects facts and metadata."""

    def __init__(self, bundle: Resource) -> None:
        self.bundle = bundle
        self.resources: list[Resource] = [entry.resource for entry in bundle.entry or [] if entry.resource]
        self.index: dict[str, Resource] = {}
        for entry in bundle.entry or []:
            if entry.resource is None:
                continue
            if entry.fullUrl:
                self.index[entry.fullUrl] = entry.resource
            if entry.resource.id:
                self.index[f"{entry.resource.get_resource_type()}/{entry.resource.id}"] = entry.resource

    def resolve(self, reference: Any, referrer: Resource | None = None) -> Resource | None:
        target = getattr(reference, "reference", None)
        if not target:
            return None
        if target.startswith("#") and referrer is not None:
            return next((item for item in referrer.contained or [] if item.id == target[1:]), None)
        if target in self.index:
            return self.index[target]
        return next((item for key, item in self.index.items() if key.endswith("/" + target)), None)

    def of_type(self, *types: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.get_resource_type() in types]

    def document(self) -> ParsedDocument:
        labels = self._group_labels()
        facts = [
            fact
            for resource in self.resources
            for fact in with_group_label(_facts_of(resource, self.resolve), labels.get(id(resource), ""))
        ]
        if not facts and _only_directory(self.resources):
            raise ParseError("no_patient", NO_PATIENT_DETAIL)
        parsed = ParsedDocument(format="fhir", patient=self.patient(), facts=facts, text=facts_summary(facts))
        composition = next(iter(self.of_type("Composition")), None)
        if self.bundle.type == "document" and composition is not None:
            self._describe_composition(parsed, composition)
        else:
            self._describe_export(parsed)
        return parsed

    def _group_labels(self) -> dict[int, str]:
        """Results grouped by the panel (Observation.hasMember) or report (DiagnosticReport.result)
        naming them, keyed by the result resource's identity; the panel, closer, wins."""
        labels: dict[int, str] = {}
        groupings = [(panel, panel.hasMember) for panel in self.of_type("Observation")]
        groupings += [(report, report.result) for report in self.of_type("DiagnosticReport")]
        for grouping, references in groupings:
            label = concept_label(grouping.code)
            for reference in references or []:
                target = self.resolve(reference, grouping)
                if label and target is not None and target is not grouping:
                    labels.setdefault(id(target), label)
        return labels

    def patient(self) -> PatientIdentity:
        identities = [patient_identity(patient) for patient in self.of_type("Patient")]
        distinct = {(i.family_name.lower(), i.given_names.lower(), i.birth_date) for i in identities}
        if len(distinct) > 1:
            raise ParseError("several_patients", f"{len(distinct)} different patients in one bundle")
        return identities[0] if identities else PatientIdentity()

    def _describe_composition(self, parsed: ParsedDocument, composition: Resource) -> None:
        coding = next((c for c in (composition.type.coding or []) if c.code), None) if composition.type else None
        parsed.type_code = coding.code if coding else ""
        parsed.type_display = collapse(coding.display if coding and coding.display else composition.type.text)
        parsed.title = collapse(composition.title) or parsed.type_display or "FHIR document"
        parsed.care_date = as_date(composition.date)
        authors = [self.resolve(author) for author in composition.author or []]
        author = next(
            (item for item in authors if item is not None and item.get_resource_type() != "Organization"), None
        )
        parsed.author_name = _person_name(self._practitioner(author))
        parsed.author_profession = self._profession(author)
        custodian = self.resolve(composition.custodian) if composition.custodian else None
        organisation = custodian or next((item for item in authors if _is_organisation(item)), None)
        parsed.organisation = collapse(getattr(organisation, "name", "") or "")

    def _practitioner(self, author: Resource | None) -> Resource | None:
        if author is not None and author.get_resource_type() == "PractitionerRole":
            return self.resolve(author.practitioner)
        return author

    def _profession(self, author: Resource | None) -> str:
        if author is None:
            return ""
        if author.get_resource_type() == "PractitionerRole":
            return next((_concept_label(code) for code in author.code or []), "")
        if author.get_resource_type() == "Practitioner":
            return next((_concept_label(item.code) for item in author.qualification or []), "")
        return ""

    def _describe_export(self, parsed: ParsedDocument) -> None:
        """Transaction/collection bundles: a record export (Synthea) or a batch of measurements."""
        parsed.title = "Health record export (FHIR)" if self._is_synthea() else "FHIR bundle"
        parsed.care_date = latest_date([*self._encounter_dates(), *(fact.effective_date for fact in parsed.facts)])
        practitioners = self.of_type("Practitioner")
        organisations = self.of_type("Organization")
        # Only an unambiguous single author/organisation is named; several would be a guess.
        if len(practitioners) == 1:
            parsed.author_name = _person_name(practitioners[0])
        if len(organisations) == 1:
            parsed.organisation = collapse(organisations[0].name)

    def _is_synthea(self) -> bool:
        for resource in self.resources:
            tags = [tag.code or "" for tag in (resource.meta.tag or [])] if resource.meta else []
            systems = [ident.system or "" for ident in getattr(resource, "identifier", None) or []]
            if any(marker in value.lower() for value in tags + systems for marker in SYNTHEA_MARKERS):
                return True
        return False

    def _encounter_dates(self) -> list[date | None]:
        dates = []
        for encounter in self.of_type("Encounter"):
            if encounter.period:
                dates.append(as_date(encounter.period.end or encounter.period.start))
        return dates


def _is_organisation(resource: Resource | None) -> bool:
    return resource is not None and resource.get_resource_type() == "Organization"


def _concept_label(concept: Any) -> str:
    if concept is None:
        return ""
    if concept.text:
        return collapse(concept.text)
    return next((collapse(c.display or c.code) for c in concept.coding or [] if c.display or c.code), "")


def _facts_of(resource: Resource, resolve: Any) -> list[ParsedFact]:
    builder = FACT_BUILDERS.get(resource.get_resource_type())
    return builder(resource, resolve) if builder else []


def _only_directory(resources: list[Resource]) -> bool:
    types = {resource.get_resource_type() for resource in resources}
    return bool(types) and types <= DIRECTORY_TYPES


def _single_resource_document(resource: Resource) -> ParsedDocument:
    """One resource sent alone: its facts; the patient is only known when it is a Patient."""
    resource_type = resource.get_resource_type()
    if _only_directory([resource]):
        raise ParseError("no_patient", NO_PATIENT_DETAIL)

    def resolve_contained(reference: Any, referrer: Resource | None = None) -> Resource | None:
        target = getattr(reference, "reference", None) or ""
        holder = referrer or resource
        return next((item for item in holder.contained or [] if target == f"#{item.id}"), None)

    facts = _facts_of(resource, resolve_contained)
    patient = patient_identity(resource) if resource_type == "Patient" else PatientIdentity()
    return ParsedDocument(
        format="fhir",
        patient=patient,
        title=f"FHIR {resource_type}",
        care_date=latest_date([fact.effective_date for fact in facts]),
        facts=facts,
        text=facts_summary(facts),
    )
