"""FHIR facts beyond the basics (issue 13): procedures, medication kinds, categories, what a
source asserts (refuted, not done, "no known ..."), criticality, report grouping, deceased.
Pure functions: no database. Small resources are built here; the corpus where it has the case.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from apps.clinical.parsers import parse_fhir
from apps.clinical.parsing import ParsedDocument, ParsedFact, ParseError

SNOMED = "http://snomed.info/sct"
IPS_ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
SUBJECT = {"reference": "Patient/p"}
ERROL = "synthea-fhir-r4/Errol_Walker_dcaa38fa-6be7-44c8-a301-aa38fc7c6ec0.json"
CBC = "Complete blood count (hemogram) panel - Blood by Automated count"


def corpus(relative: str) -> bytes:
    return (Path(settings.CORPUS_DIR) / relative).read_bytes()


def parse(resource: dict[str, Any]) -> ParsedDocument:
    return parse_fhir(json.dumps(resource).encode())


def only(resource: dict[str, Any]) -> ParsedFact:
    (fact,) = parse(resource).facts
    return fact


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def concept(code: str, display: str = "", system: str = SNOMED) -> dict[str, Any]:
    coding = {"system": system, "code": code, **({"display": display} if display else {})}
    return {"coding": [coding]}


def verification(code: str, system: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system}", "code": code}]}


def find(document: ParsedDocument, **fields: object) -> ParsedFact:
    matches = [fact for fact in document.facts if all(getattr(fact, k) == v for k, v in fields.items())]
    assert matches, f"no fact with {fields}"
    return matches[0]


# --- procedures --------------------------------------------------------------------------------


def test_synthea_procedure_is_a_procedure_with_code_status_period_and_reason():
    document = parse_fhir(corpus(ERROL))
    culture = find(document, kind="procedure", code="117015009")
    assert (culture.code_system, culture.display, culture.status) == (SNOMED, "Throat culture (procedure)", "completed")
    assert (culture.effective_date, culture.effective_end) == (date(2016, 1, 31), date(2016, 1, 31))
    assert culture.detail == "reason: Streptococcal sore throat (disorder)"
    assert culture.assertion == "present"
    assert len([fact for fact in document.facts if fact.kind == "procedure"]) == 4


def test_procedure_keeps_body_site_and_performed_date():
    fact = only(
        {
            "resourceType": "Procedure",
            "subject": SUBJECT,
            "status": "completed",
            "code": concept("80146002", "Appendectomy"),
            "performedDateTime": "2019-05-03",
            "bodySite": [concept("66754008", "Appendix structure")],
        }
    )
    assert (fact.kind, fact.display, fact.effective_date) == ("procedure", "Appendectomy", date(2019, 5, 3))
    assert fact.detail == "body site: Appendix structure"


def test_procedure_not_done_is_absent():
    fact = only(
        {
            "resourceType": "Procedure",
            "subject": SUBJECT,
            "status": "not-done",
            "code": concept("80146002", "Appendectomy"),
        }
    )
    assert (fact.assertion, fact.status) == ("absent", "not-done")


def test_ips_no_known_procedures_is_none_known():
    fact = only(
        {
            "resourceType": "Procedure",
            "subject": SUBJECT,
            "status": "unknown",
            "code": concept("no-known-procedures", "No known procedures", IPS_ABSENT),
        }
    )
    assert (fact.kind, fact.assertion, fact.display, fact.code) == (
        "procedure",
        "none_known",
        "No known procedures",
        "no-known-procedures",
    )


# --- medications -------------------------------------------------------------------------------


def test_medication_administration_is_a_medication_given():
    fact = only(
        {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationCodeableConcept": concept("1191", "Aspirin", "http://www.nlm.nih.gov/research/umls/rxnorm"),
            "subject": {"reference": "Patient/p"},
            "effectivePeriod": {"start": "2021-03-04T10:00:00Z", "end": "2021-03-04T10:30:00Z"},
            "dosage": {"dose": {"value": 500, "unit": "mg"}, "route": {"text": "oral"}},
        }
    )
    assert (fact.kind, fact.category, fact.code, fact.display) == ("medication", "administration", "1191", "Aspirin")
    assert (fact.effective_date, fact.detail, fact.status) == (date(2021, 3, 4), "500 mg, oral", "completed")


def test_medication_request_is_a_prescription_and_statement_a_statement():
    request = find(parse_fhir(corpus(ERROL)), kind="medication", code="310965")
    statement = find(parse_fhir(corpus("ips/ips-bundle-minimal.json")), kind="medication")
    assert (request.category, statement.category) == ("prescription", "statement")


def test_dosage_text_is_kept_as_the_source_writes_it():
    fact = only(
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p"},
            "medicationCodeableConcept": {"text": "Amoxicilline 1 g"},
            "dosageInstruction": [
                {
                    "text": "1 comprimé matin et soir",
                    "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                }
            ],
        }
    )
    assert fact.detail == "1 comprimé matin et soir"


@pytest.mark.parametrize(
    ("repeat", "words"),
    [
        ({"frequency": 2, "period": 1, "periodUnit": "d"}, "1 tablet, 2 times a day"),
        ({"frequency": 1, "period": 8, "periodUnit": "h"}, "1 tablet, every 8 hours"),
        ({"frequency": 1, "period": 1, "periodUnit": "h"}, "1 tablet, once an hour"),
        ({"periodUnit": "d"}, "1 tablet"),  # a unit without a period says nothing sure
    ],
)
def test_dosage_without_text_writes_its_rhythm_in_words(repeat, words):
    fact = only(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "subject": {"reference": "Patient/p"},
            "medicationCodeableConcept": {"text": "Paracetamol 500 mg"},
            "dosage": [
                {"timing": {"repeat": repeat}, "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]}
            ],
        }
    )
    assert fact.detail == words


def test_medication_not_taken_is_absent():
    fact = only(
        {
            "resourceType": "MedicationStatement",
            "status": "not-taken",
            "subject": {"reference": "Patient/p"},
            "medicationCodeableConcept": {"text": "Warfarin"},
        }
    )
    assert fact.assertion == "absent"


# --- conditions --------------------------------------------------------------------------------


def condition(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "subject": {"reference": "Patient/p"}, "code": concept("38341003"), **extra}


def test_condition_category_is_the_hl7_category_code():
    category = concept(
        "encounter-diagnosis", "Encounter Diagnosis", "http://terminology.hl7.org/CodeSystem/condition-category"
    )
    assert only(condition(category=[category])).category == "encounter-diagnosis"


def test_condition_category_outside_hl7_keeps_its_text():
    document = parse_fhir(corpus("ips/ips-bundle-minimal.json"))
    assert find(document, kind="condition").category == "Problem"  # LOINC 75326-9


def test_refuted_condition_is_kept_as_absent():
    fact = only(condition(verificationStatus=verification("refuted", "condition-ver-status")))
    assert (fact.assertion, fact.code) == ("absent", "38341003")


def test_condition_entered_in_error_says_so_in_its_status():
    fact = only(
        condition(
            clinicalStatus=verification("active", "condition-clinical"),
            verificationStatus=verification("entered-in-error", "condition-ver-status"),
        )
    )
    assert fact.status == "entered-in-error"


@pytest.mark.parametrize(
    ("code", "system", "display"),
    [
        ("no-known-problems", IPS_ABSENT, "No known problems"),
        ("no-problem-info", IPS_ABSENT, "No information about problems"),
        ("160245001", SNOMED, "No current problems"),
    ],
)
def test_no_known_problems_is_none_known_not_a_problem(code, system, display):
    fact = only(condition(code=concept(code, "whatever the sender wrote", system)))
    assert (fact.assertion, fact.display, fact.code) == ("none_known", display, code)


# --- allergies ---------------------------------------------------------------------------------


def allergy(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/p"}, **extra}


def test_ips_no_known_food_allergy_is_none_known_not_an_allergy():
    document = parse_fhir(corpus("ips/ips-bundle-01.xml"))
    statement = find(document, kind="allergy", code="429625007")
    assert (statement.assertion, statement.display) == ("none_known", "No known food allergies")
    assert find(document, kind="allergy", code="373270004").assertion == "present"


def test_refuted_allergy_to_substance_is_no_known_allergies_not_an_allergy_called_substance():
    fact = only(
        allergy(
            verificationStatus=verification("refuted", "allergyintolerance-verification"),
            code=concept("105590001", "Substance"),
        )
    )
    assert (fact.assertion, fact.display) == ("none_known", "No known allergies")


def test_ips_no_known_allergies_code_is_none_known():
    fact = only(allergy(code=concept("no-known-allergies", "No known allergies", IPS_ABSENT)))
    assert (fact.assertion, fact.display) == ("none_known", "No known allergies")


def test_refuted_penicillin_allergy_is_absent():
    fact = only(
        allergy(
            verificationStatus=verification("refuted", "allergyintolerance-verification"),
            code=concept("373270004", "Penicillin"),
        )
    )
    assert (fact.assertion, fact.display, fact.status) == ("absent", "Penicillin", "refuted")


def test_allergy_criticality_and_category_are_fields():
    document = parse_fhir(corpus("ips/ips-bundle-minimal.json"))
    penicillin = find(document, kind="allergy", code="373270004")
    assert (penicillin.criticality, penicillin.category) == ("high", "medication")


# --- observations and reports ------------------------------------------------------------------


def test_results_of_a_diagnostic_report_are_grouped_under_its_name():
    document = parse_fhir(corpus(ERROL))
    leukocytes = [fact for fact in document.facts if fact.code == "6690-2"]
    assert {fact.group_label for fact in leukocytes} == {CBC}
    weight = find(document, code="29463-7")
    assert weight.group_label == ""  # a vital sign in no report


def test_synthea_leukocyte_result_has_its_value_and_unit():
    document = parse_fhir(corpus(ERROL))
    leukocytes = find(document, code="6690-2", effective_date=date(2020, 2, 19))
    assert (leukocytes.value_decimal, leukocytes.unit) == (Decimal("8.642860138595031"), "10*3/uL")


def test_members_of_a_panel_are_grouped_under_the_panel():
    document = parse_fhir(corpus("ips/ips-bundle-01.xml"))
    assert find(document, code="1156-9").group_label == "Blood typing"


def test_blood_pressure_components_are_grouped_under_their_panel():
    systolic = find(parse_fhir(corpus(ERROL)), code="8480-6")
    assert systolic.group_label == "Blood Pressure"


def test_panel_named_by_a_bare_code_groups_nothing_under_that_code():
    document = parse_fhir(corpus("fr-fhir/Observation-ExampleMesFrObservationBP001.json"))
    assert {fact.group_label for fact in document.facts} == {""}  # LOINC 85354-9, no display


def test_lone_report_gives_its_contained_results_grouped():
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"text": "Lipid panel"},
        "contained": [
            {
                "resourceType": "Observation",
                "id": "ldl",
                "status": "final",
                "code": concept("18262-6", "LDL", "http://loinc.org"),
                "valueQuantity": {"value": 1.2, "unit": "g/L"},
            }
        ],
        "result": [{"reference": "#ldl"}],
    }
    fact = only(report)
    assert (fact.code, fact.value_decimal, fact.group_label) == ("18262-6", Decimal("1.2"), "Lipid panel")


def observation(**value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": concept("6690-2", "Leukocytes", "http://loinc.org"),
        **value,
    }


def test_observation_without_value_says_why():
    fact = only(observation(dataAbsentReason=verification("not-performed", "data-absent-reason")))
    assert (fact.value_decimal, fact.value_text, fact.detail) == (None, "", "no value: not performed")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"valueString": "rares"}, "rares"),
        ({"valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 128}}}, "1:128"),
        ({"valueBoolean": False}, "no"),
        ({"valueCodeableConcept": {"text": "Positive"}}, "Positive"),
    ],
)
def test_observation_values_of_every_type_are_read(value, text):
    assert only(observation(**value)).value_text == text


def test_observation_category_is_the_hl7_code():
    document = parse_fhir(corpus(ERROL))
    assert find(document, code="6690-2").category == "laboratory"
    assert find(document, code="8480-6").category == "vital-signs"


# --- immunizations, patient --------------------------------------------------------------------


def test_immunization_not_done_is_absent():
    fact = only(
        {
            "resourceType": "Immunization",
            "status": "not-done",
            "vaccineCode": concept("140", "Influenza", "http://hl7.org/fhir/sid/cvx"),
            "patient": {"reference": "Patient/p"},
            "occurrenceDateTime": "2021-10-01",
        }
    )
    assert (fact.assertion, fact.status) == ("absent", "not-done")


def test_patient_deceased_date_is_read():
    patient = parse(
        {"resourceType": "Patient", "name": [{"family": "Martin"}], "deceasedDateTime": "2022-01-05T10:00:00Z"}
    ).patient
    assert (patient.deceased, patient.deceased_on) == (True, date(2022, 1, 5))


def test_patient_deceased_without_date_is_read():
    patient = parse({"resourceType": "Patient", "deceasedBoolean": True}).patient
    assert (patient.deceased, patient.deceased_on) == (True, None)


def test_living_patient_is_not_deceased():
    assert parse_fhir(corpus(ERROL)).patient.deceased is False


# --- files without a patient -------------------------------------------------------------------


def synthea_hospitals() -> dict[str, Any]:
    """The shape of Synthea's hospitalInformation*.json: Organizations only, in a transaction."""
    hospital = {
        "resourceType": "Organization",
        "id": "8ad64ecf-c817-3753-bee7-006a8e662e06",
        "identifier": [{"system": "https://github.com/synthetichealth/synthea", "value": "8ad64ecf"}],
        "name": "CAPE COD HOSPITAL",
        "extension": [
            {"url": "http://synthetichealth.github.io/synthea/utilization-encounters-extension", "valueInteger": 12}
        ],
    }
    return bundle(hospital, kind="transaction")


def synthea_practitioners() -> dict[str, Any]:
    practitioner = {
        "resourceType": "Practitioner",
        "id": "0000016d-3a85-4cca-0000-00000000c5b2",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "50530"}],
        "name": [{"family": "Bins", "given": ["Dalton"], "prefix": ["Dr."]}],
    }
    role = {"resourceType": "PractitionerRole", "id": "role-1", "practitioner": {"reference": "urn:uuid:0000016d"}}
    return bundle(practitioner, role, kind="transaction")


@pytest.mark.parametrize("content", [synthea_hospitals(), synthea_practitioners()], ids=["hospitals", "practitioners"])
def test_directory_bundle_is_refused_as_having_no_patient(content):
    with pytest.raises(ParseError) as refusal:
        parse(content)
    assert refusal.value.code == "no_patient"


def test_lone_organization_is_refused_as_having_no_patient():
    with pytest.raises(ParseError) as refusal:
        parse({"resourceType": "Organization", "name": "Clinique"})
    assert refusal.value.code == "no_patient"


def test_measurements_without_a_patient_are_still_read():
    document = parse_fhir(corpus("fr-fhir/Bundle-bundle-example.json"))
    assert document.facts
