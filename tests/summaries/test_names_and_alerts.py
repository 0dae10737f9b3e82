"""Names a person reads and coded alerts on the summary, the profile, the PDF and the API (issue 13)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from apps.access.models import CareRelationship
from apps.clinical.models import ClinicalFact
from apps.summaries import pdf
from apps.summaries.builder import record_summary
from tests.factories import DocumentFactory

LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
FREE_T4_SOURCE = "Thyroxine libre [Masse/Volume] Sérum/Plasma ; Numérique"


def fact(record, **fields) -> ClinicalFact:
    document = fields.pop("document", None) or DocumentFactory(record=record, title="Compte rendu")
    defaults = {"kind": "observation", "effective_date": date(2024, 6, 1), "code_system": LOINC}
    return ClinicalFact.objects.create(record=record, source_document=document, **{**defaults, **fields})


def free_t4(record) -> ClinicalFact:
    return fact(record, code="3024-7", display=FREE_T4_SOURCE, value_decimal=Decimal("7.67"), unit="pg/mL")


def height(record) -> ClinicalFact:
    return fact(record, code="8302-2", display="Body height", value_decimal=Decimal("170.200000"), unit="cm")


def condition(record, **fields) -> ClinicalFact:
    return fact(record, kind="condition", status="active", **fields)


def summary_part(client, record, language: str) -> str:
    page = client.get(reverse("record_detail", args=[record.uuid]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return page[page.index('id="summary-title"') : page.index('id="categories-title"')]


def alert_names(actor, record) -> list[str]:
    return [line.display for line in record_summary(actor=actor, record=record).alerts]


# --- Names --------------------------------------------------------------------


def test_a_french_reader_sees_the_short_french_name_of_free_t4(alice, alice_record):
    free_t4(alice_record)
    with translation.override("fr"):
        series = record_summary(actor=alice, record=alice_record).results[0]
    assert (series.name, series.display) == ("T4 libre", FREE_T4_SOURCE)


def test_an_english_reader_sees_free_t4(alice, alice_record):
    free_t4(alice_record)
    with translation.override("en"):
        assert record_summary(actor=alice, record=alice_record).results[0].name == "Free T4"


def test_the_french_summary_page_names_vital_signs_in_french(as_user, alice, alice_record):
    height(alice_record)
    fact(alice_record, code="8480-6", display="BP Systolic", value_decimal=Decimal("150"), unit="mm[Hg]")
    html = summary_part(as_user(alice), alice_record, "fr")
    assert "Taille" in html
    assert "Pression artérielle systolique" in html
    assert "Body height" not in html
    assert "BP Systolic" not in html


def test_the_profile_page_uses_the_same_short_name(as_user, alice, alice_record):
    free_t4(alice_record)
    html = as_user(alice).get(reverse("medical_profile", args=[alice_record.uuid]), HTTP_ACCEPT_LANGUAGE="fr")
    assert "T4 libre" in html.content.decode()


def test_the_apis_give_the_name_beside_the_source_text_and_the_code(as_user, alice, alice_record):
    free_t4(alice_record)
    client = as_user(alice)
    summary = client.get(f"/api/v1/records/{alice_record.uuid}/summary/", HTTP_ACCEPT_LANGUAGE="en").json()
    profile = client.get(f"/api/v1/records/{alice_record.uuid}/profile/facts/", HTTP_ACCEPT_LANGUAGE="en").json()
    facts = client.get(f"/api/v1/records/{alice_record.uuid}/facts/", HTTP_ACCEPT_LANGUAGE="en").json()
    series = summary["results"][0]
    assert (series["name"], series["display"], series["code"]) == ("Free T4", FREE_T4_SOURCE, "3024-7")
    assert series["latest"]["name"] == "Free T4"
    for item in (profile[0], facts[0]):
        assert (item["name"], item["display"], item["code"]) == ("Free T4", FREE_T4_SOURCE, "3024-7")


def test_the_patient_does_not_see_the_codes(as_user, alice, alice_record):
    free_t4(alice_record)
    assert '<small class="code">3024-7</small>' not in summary_part(as_user(alice), alice_record, "en")


def test_a_professional_sees_the_code_in_small_text(as_user, alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    free_t4(alice_record)
    assert '<small class="code">3024-7</small>' in summary_part(as_user(dr_martin), alice_record, "en")


def test_a_professional_reads_that_a_line_had_no_code(as_user, alice_record, dr_martin):
    # Kept with the source's words, never a guessed code: the professional is told it is text only.
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    fact(alice_record, kind="condition", code_system="", code="", display="Douleurs lombaires", code_known=False)
    assert '<small class="code">uncoded</small>' in summary_part(as_user(dr_martin), alice_record, "en")


# --- Values -------------------------------------------------------------------


def test_a_result_without_a_value_says_it_is_in_the_document(as_user, alice, alice_record):
    fact(alice_record, code="804-5", display="Leukocytes [#/volume] in Blood by Manual count")
    html = summary_part(as_user(alice), alice_record, "en")
    assert "result in the document" in html
    assert "Compte rendu" in html  # with its source


def test_a_pending_result_says_it_is_not_known_yet(as_user, alice, alice_record):
    # The C-CDA sample lists a leukocyte count with statusCode "active" and no value.
    fact(alice_record, code="804-5", display="Leukocytes [#/volume] in Blood by Manual count", status="active")
    html = summary_part(as_user(alice), alice_record, "en")
    assert "result not known yet" in html
    assert "result in the document" not in html


def test_a_result_without_a_value_says_so_in_the_pdf(alice, alice_record):
    fact(alice_record, code="804-5", display="Leukocytes [#/volume] in Blood by Manual count")
    with translation.override("en"):
        html = pdf.summary_html(summary=record_summary(actor=alice, record=alice_record))
    assert "result in the document" in html


def test_the_same_height_reads_the_same_on_the_summary_the_profile_and_the_pdf(as_user, alice, alice_record):
    height(alice_record)
    client = as_user(alice)
    summary_html = summary_part(client, alice_record, "fr")
    profile_html = client.get(reverse("medical_profile", args=[alice_record.uuid]), HTTP_ACCEPT_LANGUAGE="fr")
    with translation.override("fr"):
        pdf_html = pdf.summary_html(summary=record_summary(actor=alice, record=alice_record))
    for html in (summary_html, profile_html.content.decode(), pdf_html):
        assert "170,2 cm" in html
        assert "170,20" not in html
        assert "170.2" not in html


# --- Alerts -------------------------------------------------------------------


def test_a_coded_no_diabetes_raises_no_alert(alice, alice_record):
    condition(alice_record, code_system=SNOMED, code="44054006", display="Diabetes mellitus type 2", assertion="absent")
    assert alert_names(alice, alice_record) == []


def test_an_uncoded_note_on_cancer_screening_raises_no_alert(alice, alice_record):
    condition(alice_record, code_system="", code="", display="Dépistage du cancer colorectal", code_known=False)
    assert alert_names(alice, alice_record) == []


def test_a_coded_heart_failure_in_another_language_raises_an_alert_with_its_reason(alice, alice_record):
    condition(alice_record, code_system=ICD10, code="I50.9", display="Herzinsuffizienz, nicht näher bezeichnet")
    with translation.override("en"):
        alerts = record_summary(actor=alice, record=alice_record).alerts
    assert [(line.display, line.alert_reason) for line in alerts] == [
        ("Herzinsuffizienz, nicht näher bezeichnet", "Heart failure")
    ]


def test_a_snomed_type_2_diabetes_raises_an_alert(alice, alice_record):
    condition(alice_record, code_system=SNOMED, code="44054006", display="Diabetes mellitus type 2")
    assert alert_names(alice, alice_record) == ["Diabetes mellitus type 2"]


def test_the_alert_line_shows_its_reason_on_the_page(as_user, alice, alice_record):
    condition(alice_record, code_system=ICD10, code="I50.9", display="Insuffisance cardiaque")
    html = summary_part(as_user(alice), alice_record, "en")
    alerts = html[html.index('id="alerts-title"') :]
    assert '<strong class="alert-reason">Heart failure</strong>' in alerts


def test_a_high_criticality_allergy_comes_first_and_says_high_risk(as_user, alice, alice_record):
    fact(alice_record, kind="allergy", code_system="", display="Pollen", criticality="low", status="active")
    fact(alice_record, kind="allergy", code_system="", display="Penicillin", criticality="high", status="active")
    lines = record_summary(actor=alice, record=alice_record).alerts
    assert [(line.display, line.alert_reason) for line in lines] == [("Penicillin", "high risk"), ("Pollen", "")]
    html = summary_part(as_user(alice), alice_record, "en")
    assert html.index("Penicillin") < html.index("Pollen")
    assert '<strong class="alert-reason">high risk</strong>' in html


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_pdf_alerts_say_why(alice, alice_record, language):
    condition(alice_record, code_system=SNOMED, code="44054006", display="Diabetes mellitus type 2")
    with translation.override(language):
        html = pdf.summary_html(summary=record_summary(actor=alice, record=alice_record))
    assert {"fr": "Diabète", "en": "Diabetes"}[language] in html[html.index('class="alert-reason"') :]
