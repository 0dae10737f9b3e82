"""Coded alerts (apps/clinical/alerts.py): serious conditions by their codes, words only for
uncoded text, never for negated entries, screening or family history."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from apps.clinical.alerts import DATA, allergies_first_by_risk, allergy_risk_label, serious_reason, serious_reason_id

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"


def condition(*, code_system="", code="", display="", assertion="present", code_known=None):
    return SimpleNamespace(
        code_system=code_system,
        code=code,
        display=display,
        assertion=assertion,
        code_known=bool(code) if code_known is None else code_known,
    )


def test_a_coded_heart_failure_is_serious():
    assert serious_reason_id(condition(code_system=ICD10, code="I50.9", display="Heart failure")) == "heart_failure"


@pytest.mark.parametrize("display", ["Insuffisance cardiaque", "Herzinsuffizienz", "Insuficiencia cardiaca"])
def test_a_coded_heart_failure_is_serious_in_any_language(display):
    assert serious_reason_id(condition(code_system=ICD10, code="I50.9", display=display)) == "heart_failure"


def test_the_french_cim10_oid_is_read_as_icd10():
    fact = condition(code_system="urn:oid:2.16.840.1.113883.6.3", code="E11.9", display="Diabète de type 2")
    assert serious_reason_id(fact) == "diabetes"


def test_an_icd10_cm_code_is_read_too():
    fact = condition(code_system="http://hl7.org/fhir/sid/icd-10-cm", code="Z79.01", display="Long term anticoag")
    assert serious_reason_id(fact) == "anticoagulants"


def test_a_snomed_type_2_diabetes_is_serious():
    assert serious_reason_id(condition(code_system=SNOMED, code="44054006", display="Diabetes mellitus type 2")) == (
        "diabetes"
    )


def test_an_icd9_stroke_from_a_us_sample_is_serious():
    fact = condition(code_system="http://hl7.org/fhir/sid/icd-9-cm", code="434.91", display="CEREBRAL ARTERY OCCLUSION")
    assert serious_reason_id(fact) == "stroke"


def test_a_range_matches_the_stages_it_names_only():
    stage_5 = condition(code_system=ICD10, code="N18.5", display="CKD 5")
    stage_3 = condition(code_system=ICD10, code="N18.3", display="CKD 3")
    assert (serious_reason_id(stage_5), serious_reason_id(stage_3)) == ("kidney_failure", None)


def test_a_coded_no_diabetes_raises_no_alert():
    fact = condition(code_system=SNOMED, code="44054006", display="Diabetes mellitus type 2", assertion="absent")
    assert serious_reason(fact) is None


def test_a_none_known_entry_raises_no_alert():
    fact = condition(code_system=ICD10, code="C50.9", display="Cancer du sein", assertion="none_known")
    assert serious_reason(fact) is None


def test_a_coded_condition_outside_the_table_raises_none_whatever_its_words():
    fact = condition(code_system=SNOMED, code="268547008", display="Screening for malignant neoplasm of breast")
    assert serious_reason(fact) is None


def test_an_uncoded_note_on_cancer_screening_raises_no_alert():
    assert serious_reason(condition(display="Dépistage du cancer colorectal", code_known=False)) is None


def test_an_uncoded_family_history_raises_no_alert():
    assert serious_reason(condition(display="Antécédents familiaux de diabète", code_known=False)) is None


def test_an_uncoded_negated_text_raises_no_alert():
    assert serious_reason(condition(display="Pas de diabète connu", code_known=False)) is None


def test_an_uncoded_serious_text_is_found_by_its_words():
    assert serious_reason_id(condition(display="Diabète de type 2 sans complication", code_known=False)) == "diabetes"


def test_a_word_inside_another_word_is_not_found():
    assert serious_reason(condition(display="Urticaria (hives) after archiving", code_known=False)) is None


def test_a_local_code_system_falls_back_on_the_words():
    fact = condition(code_system="urn:oid:1.2.250.1.213.1.1.4.322", code="MED-1", display="Insuffisance cardiaque")
    assert serious_reason_id(fact) == "heart_failure"


def test_the_reason_is_said_in_the_reader_language():
    fact = condition(code_system=ICD10, code="I50.9", display="Heart failure")
    assert (serious_reason(fact, language="fr"), serious_reason(fact, language="en")) == (
        "Insuffisance cardiaque",
        "Heart failure",
    )


def test_a_high_criticality_allergy_says_high_risk_in_words():
    assert allergy_risk_label("high", language="en") == "high risk"


def test_a_low_criticality_allergy_says_nothing_more():
    assert allergy_risk_label("low", language="en") == ""


def test_high_criticality_allergies_come_first():
    lines = [SimpleNamespace(name="pollen", criticality="low"), SimpleNamespace(name="penicillin", criticality="high")]
    assert [line.name for line in allergies_first_by_risk(lines)] == ["penicillin", "pollen"]


def test_the_table_is_versioned_and_every_code_has_a_reason_in_both_languages():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert data["version"]
    assert data["source"]
    assert data["reviewed"]
    used = {row["reason"] for family in ("icd10", "icd9cm") for row in data[family]}
    used |= {row["reason"] for row in data["snomed"].values()}
    assert used <= set(data["reasons"])
    assert all(texts["fr"] and texts["en"] for texts in data["reasons"].values())
