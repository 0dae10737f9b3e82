"""The structured parsers on every file of the shared corpus. Pure functions: no database.

Counts were checked against the files: Synthea observations count one fact per plain
Observation plus one per blood-pressure component (the panel itself has no value); CDA
counts are the entries read by template wherever they stand, the section code
(cda_templates.SECTION_KINDS) deciding only for entries without a known template.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from apps.clinical.parsers import parse_cda, parse_fhir, parse_structured
from apps.clinical.parsing import ParsedDocument, ParsedFact

KINDS = ("allergy", "condition", "medication", "immunization", "observation")


def corpus(relative: str) -> bytes:
    return (Path(settings.CORPUS_DIR) / relative).read_bytes()


def counts(document: ParsedDocument, kinds: object = KINDS) -> dict[str, int]:
    found = Counter(fact.kind for fact in document.facts)
    return {kind: found[kind] for kind in kinds}  # type: ignore[attr-defined]


def expect(allergy=0, condition=0, medication=0, immunization=0, observation=0, procedure=None) -> dict[str, int]:
    """Counts by kind; procedures are checked only where given (``procedure=0`` checks none)."""
    expected = dict(zip(KINDS, (allergy, condition, medication, immunization, observation), strict=True))
    return expected if procedure is None else {**expected, "procedure": procedure}


def find(document: ParsedDocument, **fields: object) -> ParsedFact:
    matches = [fact for fact in document.facts if all(getattr(fact, k) == v for k, v in fields.items())]
    assert matches, f"no fact with {fields}"
    return matches[0]


# (file, family, given, birth date, sex, INS, counts by kind)
FHIR_FILES = [
    (
        "synthea-fhir-r4/Buster_Hoeger_ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423.json",
        "Hoeger",
        "Buster",
        date(1988, 3, 16),
        "M",
        "",
        expect(condition=3, medication=1, immunization=4, observation=36, procedure=1),
    ),
    (
        "synthea-fhir-r4/Chet_Hoeger_5c6db3d0-c0fc-4eb7-8eae-dbc7847be741.json",
        "Hoeger",
        "Chet",
        date(1988, 9, 5),
        "M",
        "",
        expect(condition=4, medication=1, immunization=8, observation=54, procedure=1),
    ),
    (
        "synthea-fhir-r4/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json",
        "Kreiger",
        "Clemente",
        date(1984, 7, 2),
        "M",
        "",
        expect(condition=1, immunization=4, observation=51, procedure=1),
    ),
    (
        "synthea-fhir-r4/Errol_Walker_dcaa38fa-6be7-44c8-a301-aa38fc7c6ec0.json",
        "Walker",
        "Errol",
        date(1997, 7, 16),
        "M",
        "",
        expect(condition=3, medication=2, immunization=12, observation=79, procedure=4),
    ),
    (
        "synthea-fhir-r4/Gustavo_Mejia_59a8543c-e24f-4a01-b28b-47ccde6bc11d.json",
        "Mejía",
        "Gustavo",
        date(1986, 11, 27),
        "M",
        "",
        expect(condition=2, medication=1, immunization=5, observation=48, procedure=1),
    ),
    (
        "ips/ips-bundle-minimal.json",
        "DeLarosa",
        "Martha",
        date(1972, 5, 1),
        "F",
        "",
        expect(allergy=1, condition=1, medication=1, procedure=0),
    ),
    (
        "ips/ips-bundle-01.xml",
        "DeLarosa",
        "Martha",
        date(1972, 5, 1),
        "F",
        "",
        expect(allergy=2, condition=2, medication=2, observation=7, procedure=0),
    ),
    ("fr-fhir/Bundle-bundle-example.json", "", "", None, "", "", expect(observation=1, procedure=0)),
    ("fr-fhir/Observation-ExampleMesFrObservationBP001.json", "", "", None, "", "", expect(observation=2, procedure=0)),
]

CDA_FILES = [
    (
        "ccda/cerner-problems-and-medications.xml",
        "Wade",
        "Victoria E",
        date(1954, 3, 23),
        "F",
        "",
        expect(condition=5, medication=6, procedure=0),
    ),
    (
        "ccda/emerge-patient-0.xml",
        "Maxwell",
        "Bernice",
        date(1940, 8, 5),
        "F",
        "",
        expect(allergy=3, condition=5, medication=2, immunization=2, observation=11, procedure=5),
    ),
    (
        "ccda/hl7-ccd-2.xml",
        "Jones",
        "Isabella",
        date(1950, 12, 19),
        "F",
        "",
        expect(allergy=1, observation=10, procedure=3),
    ),
    (
        "ccda/hl7-discharge-summary.xml",
        "Jones",
        "Isabella",
        date(2005, 5, 1),
        "F",
        "",
        # issue 13: admission and discharge diagnoses and a functional-status problem are conditions
        expect(allergy=3, condition=5, medication=1, immunization=2, observation=4, procedure=1),
    ),
    (
        "ccda/hl7-progress-note.xml",
        "Everyman",
        "Adam",
        date(1954, 11, 25),
        "M",
        "",
        expect(allergy=2, condition=3, medication=2, observation=14, procedure=0),
    ),
    ("ccda/hl7-unstructured-embedded-pdf.xml", "Levin", "Henry L", date(1953, 3, 2), "M", "", expect(procedure=0)),
    (
        "fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml",
        "PAT-TROIS",
        "DOMINIQUE MARIE-LOUISE",
        date(1979, 3, 28),
        "F",
        "279035121518989",
        expect(observation=2, procedure=0),
    ),
    (
        "fr-cda/CSE-CS8_2024.01.xml",
        "DECOURCY",
        "Ruth Isabelle",
        date(2023, 4, 25),
        "F",
        "223042545611404",
        # issue 13: the hearing-screening problem entry (outside the problems section) is a condition
        expect(condition=6, medication=1, immunization=2, observation=6, procedure=2),
    ),
    (
        "fr-cda/DOC_NON_STRUCTURE_CDA-R2-N1.xml",
        "PAT-TROIS",
        "DOMINIQUE MARIE-LOUISE",
        date(1979, 3, 28),
        "F",
        "279035121518989",
        expect(procedure=0),
    ),
    (
        "fr-cda/IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml",
        "PAT-TROIS",
        "DOMINIQUE MARIE-LOUISE",
        date(1979, 3, 28),
        "F",
        "279035121518989",
        expect(procedure=0),
    ),
    (
        "fr-cda/LDL-EES_2022.01.xml",
        "PAT-TROIS",
        "DOMINIQUE MARIE-LOUISE",
        date(1979, 3, 28),
        "F",
        "279035121518989",
        expect(allergy=1, condition=1, medication=1, procedure=1),
    ),
    (
        "fr-cda/VAC_2023.01.xml",
        "PAT-TROIS",
        "DOMINIQUE MARIE-LOUISE",
        date(1979, 3, 28),
        "F",
        "279035121518989",
        expect(immunization=4, procedure=0),
    ),
]


def _ids(files: list[tuple]) -> list[str]:
    return [Path(item[0]).name for item in files]


def test_every_structured_corpus_file_is_covered():
    listed = {item[0] for item in FHIR_FILES + CDA_FILES}
    root = Path(settings.CORPUS_DIR)
    on_disk = {
        str(path.relative_to(root))
        for folder in ("synthea-fhir-r4", "ccda", "ips", "fr-cda", "fr-fhir")
        for path in (root / folder).iterdir()
    }
    assert listed == on_disk


@pytest.mark.parametrize(
    ("path", "family", "given", "birth", "sex", "ins", "by_kind"), FHIR_FILES, ids=_ids(FHIR_FILES)
)
def test_fhir_file_gives_patient_and_fact_counts(path, family, given, birth, sex, ins, by_kind):
    document = parse_structured(corpus(path), "fhir")
    assert document.format == "fhir"
    assert (document.patient.family_name, document.patient.given_names) == (family, given)
    assert (document.patient.birth_date, document.patient.sex, document.patient.ins) == (birth, sex, ins)
    assert counts(document, by_kind) == by_kind


@pytest.mark.parametrize(("path", "family", "given", "birth", "sex", "ins", "by_kind"), CDA_FILES, ids=_ids(CDA_FILES))
def test_cda_file_gives_patient_and_fact_counts(path, family, given, birth, sex, ins, by_kind):
    document = parse_structured(corpus(path), "cda")
    assert document.format == "cda"
    assert (document.patient.family_name, document.patient.given_names) == (family, given)
    assert (document.patient.birth_date, document.patient.sex, document.patient.ins) == (birth, sex, ins)
    assert counts(document, by_kind) == by_kind


@pytest.mark.parametrize("path", [item[0] for item in FHIR_FILES + CDA_FILES], ids=_ids(FHIR_FILES + CDA_FILES))
def test_every_fact_has_a_display_and_a_code_unless_marked_unknown(path):
    document = parse_structured(corpus(path), "cda" if path.endswith(".xml") and "ips" not in path else "fhir")
    for fact in document.facts:
        assert fact.display
        assert fact.code_known == bool(fact.code)


# --- FHIR: named values ------------------------------------------------------------------------


def test_synthea_bundle_is_a_record_export_dated_by_its_last_encounter():
    document = parse_fhir(corpus("synthea-fhir-r4/Errol_Walker_dcaa38fa-6be7-44c8-a301-aa38fc7c6ec0.json"))
    assert document.title == "Health record export (FHIR)"
    assert document.type_code == ""
    assert document.care_date == date(2020, 2, 19)
    assert document.organisation == "CAPE COD HOSPITAL"
    assert "Sprain of wrist" in document.text


def test_synthea_condition_keeps_snomed_code_status_and_dates():
    document = parse_fhir(corpus("synthea-fhir-r4/Errol_Walker_dcaa38fa-6be7-44c8-a301-aa38fc7c6ec0.json"))
    sprain = find(document, kind="condition", code="70704007")
    assert sprain.code_system == "http://snomed.info/sct"
    assert sprain.display == "Sprain of wrist"
    assert (sprain.status, sprain.effective_date, sprain.effective_end) == (
        "resolved",
        date(2014, 7, 17),
        date(2014, 8, 14),
    )


def test_synthea_medication_request_keeps_rxnorm_code_and_dosage():
    document = parse_fhir(corpus("synthea-fhir-r4/Errol_Walker_dcaa38fa-6be7-44c8-a301-aa38fc7c6ec0.json"))
    ibuprofen = find(document, kind="medication", code="310965")
    assert ibuprofen.display == "Ibuprofen 200 MG Oral Tablet"
    assert (ibuprofen.status, ibuprofen.effective_date, ibuprofen.detail) == ("stopped", date(2014, 7, 17), "as needed")


def test_synthea_blood_pressure_panel_gives_one_fact_per_component():
    document = parse_fhir(corpus("synthea-fhir-r4/Errol_Walker_dcaa38fa-6be7-44c8-a301-aa38fc7c6ec0.json"))
    systolic = [fact for fact in document.facts if fact.code == "8480-6"]
    assert len(systolic) == 8
    assert systolic[0].unit == "mm[Hg]"
    assert systolic[0].value_decimal == Decimal("117.20838323970008")
    assert not [fact for fact in document.facts if fact.code == "55284-4"]  # the panel itself


def test_synthea_immunization_keeps_cvx_code_and_date():
    document = parse_fhir(corpus("synthea-fhir-r4/Gustavo_Mejia_59a8543c-e24f-4a01-b28b-47ccde6bc11d.json"))
    vaccine = find(document, kind="immunization", code="113")
    assert (vaccine.code_system, vaccine.display) == ("http://hl7.org/fhir/sid/cvx", "Td (adult) preservative free")
    assert vaccine.effective_date is not None


def test_ips_document_bundle_takes_metadata_from_its_composition():
    document = parse_fhir(corpus("ips/ips-bundle-minimal.json"))
    assert (document.type_code, document.type_display) == ("60591-5", "Patient summary Document")
    assert document.title == "Patient Summary as of December 11, 2020 14:30"
    assert document.care_date == date(2020, 12, 11)
    assert (document.author_name, document.author_profession) == ("Beetje van Hulp", "Doctor of Medicine")
    assert document.organisation == "Anorg Aniza Tion BV / The best custodian ever"


def test_ips_medication_statement_resolves_its_referenced_medication():
    document = parse_fhir(corpus("ips/ips-bundle-minimal.json"))
    medication = find(document, kind="medication")
    assert (medication.code_system, medication.code) == ("http://snomed.info/sct", "108774000")
    assert medication.display == "Product containing anastrozole (medicinal product)"
    assert medication.detail == "1 tablet, Oral use"
    assert medication.effective_date == date(2015, 3, 1)  # "2015-03": first day of the month


def test_ips_allergy_keeps_penicillin_code_and_criticality():
    document = parse_fhir(corpus("ips/ips-bundle-minimal.json"))
    allergy = find(document, kind="allergy")
    assert (allergy.code, allergy.status, allergy.effective_date) == ("373270004", "active", date(2010, 1, 1))
    assert (allergy.criticality, allergy.detail) == ("high", "")  # issue 13: criticality is a field of its own


def test_ips_xml_bundle_is_parsed_after_emptying_its_narratives():
    document = parse_fhir(corpus("ips/ips-bundle-01.xml"))
    assert document.type_code == "60591-5"
    hba1c = find(document, kind="observation", code="17856-6")
    assert (hba1c.value_decimal, hba1c.unit, hba1c.effective_date) == (Decimal("7.5"), "%", date(2017, 11, 10))
    assert hba1c.detail == "Above stated goal of 7.0 %"
    assert find(document, kind="condition", code="254837009").status == "remission"


def test_fhir_entry_without_code_keeps_its_text_and_is_marked_unknown():
    document = parse_fhir(corpus("ips/ips-bundle-01.xml"))
    panel = find(document, display="Blood typing")
    assert (panel.kind, panel.code, panel.code_known) == ("observation", "", False)


def test_french_measurement_bundle_has_no_patient_and_a_weight():
    document = parse_fhir(corpus("fr-fhir/Bundle-bundle-example.json"))
    assert document.patient.family_name == ""
    weight = find(document, code="29463-7")
    assert (weight.value_decimal, weight.unit, weight.effective_date) == (Decimal("71"), "kg", date(2022, 8, 22))


def test_single_blood_pressure_observation_gives_component_facts():
    document = parse_fhir(corpus("fr-fhir/Observation-ExampleMesFrObservationBP001.json"))
    assert [fact.display for fact in document.facts] == ["Systolic blood pressure", "Diastolic blood pressure"]
    systolic, diastolic = document.facts
    assert (systolic.value_decimal, systolic.unit, systolic.interpretation) == (Decimal("107"), "mm[Hg]", "N")
    assert (diastolic.value_decimal, diastolic.interpretation) == (Decimal("60"), "L")
    assert systolic.effective_date == date(2012, 9, 17)
    assert document.care_date == date(2012, 9, 17)


# --- CDA: named values ---------------------------------------------------------------------------


def test_french_lab_report_gives_values_units_ranges_and_interpretation():
    document = parse_cda(corpus("fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml"))
    assert (document.type_code, document.care_date) == ("11502-2", date(2021, 4, 1))
    tsh = find(document, code="3016-3")
    assert (tsh.code_system, tsh.value_decimal, tsh.unit) == ("http://loinc.org", Decimal("1.950"), "m[IU]/L")
    assert (tsh.reference_low, tsh.reference_high, tsh.interpretation) == (Decimal("0.270"), Decimal("4.200"), "N")
    assert tsh.effective_date == date(2014, 4, 2)
    assert find(document, code="3024-7").interpretation == "L"


def test_french_lab_report_header_names_author_profession_and_laboratory():
    document = parse_cda(corpus("fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml"))
    assert document.author_name == "Marcel CAMPARINI"
    assert document.author_profession == "Médecin - Biologie médicale (SM)"
    assert document.organisation == "Laboratoire des charmes"
    assert "Thyréostimuline (TSH)" in document.text


@pytest.mark.parametrize(
    ("path", "pdf"),
    [
        ("fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml", "pdf/fr-cr-biologie-tsh-fop.pdf"),
        ("fr-cda/DOC_NON_STRUCTURE_CDA-R2-N1.xml", "pdf/fr-cr-biologie-word.pdf"),
        ("ccda/hl7-unstructured-embedded-pdf.xml", "pdf/hl7-ud-sample.pdf"),
    ],
)
def test_embedded_pdf_is_decoded_byte_for_byte(path, pdf):
    assert parse_cda(corpus(path)).embedded_pdf == corpus(pdf)


def test_imaging_report_non_xml_body_is_an_embedded_pdf():
    document = parse_cda(corpus("fr-cda/IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml"))
    assert document.type_code == "18748-4"
    assert document.embedded_pdf.startswith(b"%PDF")


def test_structured_cda_without_attachment_has_no_pdf():
    assert parse_cda(corpus("fr-cda/VAC_2023.01.xml")).embedded_pdf is None


def test_french_vaccination_history_gives_vaccines_with_dates_and_lots():
    document = parse_cda(corpus("fr-cda/VAC_2023.01.xml"))
    assert document.type_code == "11369-6"
    bcg = find(document, code="61077869")
    assert (bcg.code_system, bcg.effective_date, bcg.detail) == (
        "urn:oid:1.2.250.1.213.2.3.1",
        date(1975, 1, 1),
        "lot 235421176",
    )
    assert bcg.display.startswith("VACCIN BCG SSI")


def test_cda_organisation_is_the_authors_not_the_custodian():
    document = parse_cda(corpus("fr-cda/VAC_2023.01.xml"))
    assert document.organisation == "Cabinet Médical du Dr MULLER"  # the custodian is "Assurance Maladie"


def test_french_liaison_letter_gives_allergy_with_reaction_problem_and_treatment():
    document = parse_cda(corpus("fr-cda/LDL-EES_2022.01.xml"))
    assert document.type_code == "18761-7"
    allergy = find(document, kind="allergy")
    assert (allergy.display, allergy.code, allergy.detail) == ("PARACETAMOL", "67017786", "reaction: urticaire")
    problem = find(document, kind="condition")
    assert (problem.code_system, problem.code, problem.display) == (
        "http://hl7.org/fhir/sid/icd-10",
        "N10",
        "Pyélonéphrite aiguë",
    )
    treatment = find(document, kind="medication")
    assert (treatment.display, treatment.effective_date) == ("SOLIAN 100 mg, comprimé sécable", date(2018, 8, 1))
    assert treatment.detail == "1, every 1 d, Voie orale"


def test_french_health_certificate_has_no_loinc_type_but_keeps_its_label():
    document = parse_cda(corpus("fr-cda/CSE-CS8_2024.01.xml"))
    assert (document.type_code, document.type_display) == ("", "Certificat, déclaration")
    weight = find(document, code="29463-7")
    assert (weight.value_decimal, weight.unit) == (Decimal("3900"), "g")


def test_negated_vaccination_is_kept_as_not_done():
    document = parse_cda(corpus("fr-cda/CSE-CS8_2024.01.xml"))
    assert {fact.status for fact in document.facts if fact.kind == "immunization"} == {"not done"}


def test_ccd_no_known_allergy_is_kept_as_none_known():
    # issue 13: a negated allergy to "Substance" is "no known allergies", never an allergy called "Substance"
    document = parse_cda(corpus("ccda/hl7-ccd-2.xml"))
    allergy = find(document, kind="allergy")
    assert (allergy.display, allergy.assertion, allergy.code) == ("No known allergies", "none_known", "419199007")
    temperature = find(document, code="8310-5")
    assert (temperature.value_decimal, temperature.unit, temperature.effective_date) == (
        Decimal("37.2"),
        "Cel",
        date(2014, 10, 1),
    )


def test_ccda_problem_without_code_uses_its_translation():
    document = parse_cda(corpus("ccda/cerner-problems-and-medications.xml"))
    problem = find(document, kind="condition", code="401.9")
    assert (problem.code_system, problem.display) == ("http://hl7.org/fhir/sid/icd-9-cm", "Hypertension, essential")
    assert (problem.status, problem.effective_date) == ("Active", date(2006, 5, 16))


def test_ccda_placeholder_display_name_falls_back_to_narrative_text():
    document = parse_cda(corpus("ccda/cerner-problems-and-medications.xml"))
    assert find(document, kind="medication", code="314076").display == "lisinopril 10 mg oral tablet"


def test_ccda_allergy_severity_is_not_a_second_allergy():
    document = parse_cda(corpus("ccda/hl7-progress-note.xml"))
    allergies = [fact.display for fact in document.facts if fact.kind == "allergy"]
    assert allergies == ["Penicillin", "codeine"]


def test_ccda_lab_result_keeps_reference_range_and_abnormal_flag():
    document = parse_cda(corpus("ccda/hl7-progress-note.xml"))
    platelets = find(document, code="777-3")
    assert (platelets.value_decimal, platelets.unit) == (Decimal("123"), "10*9/L")
    assert (platelets.reference_low, platelets.reference_high, platelets.interpretation) == (
        Decimal("150"),
        Decimal("350"),
        "A",
    )


def test_ccda_discharge_summary_metadata():
    document = parse_cda(corpus("ccda/hl7-discharge-summary.xml"))
    assert (document.type_code, document.type_display) == ("18842-5", "Discharge summary")
    assert (document.author_name, document.organisation) == ("Henry Seven", "Community Health and Hospitals")
    assert document.care_date == date(2014, 9, 17)
    assert find(document, kind="immunization", code="103").status == "not done"


def test_emerge_lipid_panel_result():
    document = parse_cda(corpus("ccda/emerge-patient-0.xml"))
    ldl = find(document, code="2089-1")
    assert (ldl.value_decimal, ldl.unit, ldl.effective_date) == (Decimal("85"), "mg/dL", date(2010, 3, 31))
