"""One status rule (apps/clinical/status.py): its table, and the same state for the same facts on
the summary, the medical profile, the summary PDF and both APIs."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse

from apps.clinical import profile
from apps.clinical.models import ClinicalFact, FactAssertion, FactKind
from apps.clinical.status import FactState, confirmed_on, fact_state
from apps.summaries import pdf
from apps.summaries.builder import record_summary
from tests.factories import DocumentFactory

TODAY = date(2026, 12, 3)
SNOMED = "http://snomed.info/sct"


def state(kind: str, status: str = "", **fields) -> FactState:
    return fact_state(
        kind=kind, status=status, today=TODAY, settings=SimpleNamespace(MEDICATION_RECONFIRM_MONTHS=12), **fields
    )


# --- The rule ----------------------------------------------------------------------------------


def test_a_completed_cda_concern_from_2018_is_finished():
    # LDL-EES_2022.01.xml: the pyelonephritis concern act has statusCode "completed".
    assert state(FactKind.CONDITION, "completed", effective_date=date(2018, 10, 1)) == FactState.FINISHED


def test_a_resolved_fhir_condition_is_finished():
    assert state(FactKind.CONDITION, "resolved", effective_date=date(2018, 10, 1)) == FactState.FINISHED


def test_an_active_prescription_from_1975_is_possibly_no_longer_taken():
    assert state(FactKind.MEDICATION, "active", effective_date=date(1975, 3, 1)) == FactState.POSSIBLY_STOPPED


def test_a_recent_active_prescription_is_current():
    assert state(FactKind.MEDICATION, "active", effective_date=TODAY - timedelta(days=40)) == FactState.CURRENT


def test_an_old_treatment_listed_in_a_recent_document_is_current():
    confirmed = confirmed_on(date(1975, 3, 1), TODAY - timedelta(days=40))  # "since 1975", in this autumn's letter
    assert state(FactKind.MEDICATION, "active", effective_date=date(1975, 3, 1), last_confirmed=confirmed) == (
        FactState.CURRENT
    )


def test_the_reconfirmation_period_comes_from_the_settings():
    eight_months_ago = TODAY - timedelta(days=240)
    lenient = SimpleNamespace(MEDICATION_RECONFIRM_MONTHS=12)
    strict = SimpleNamespace(MEDICATION_RECONFIRM_MONTHS=6)
    common = {"kind": FactKind.MEDICATION, "status": "active", "effective_date": eight_months_ago, "today": TODAY}
    assert fact_state(**common, settings=lenient) == FactState.CURRENT
    assert fact_state(**common, settings=strict) == FactState.POSSIBLY_STOPPED


def test_the_django_setting_is_read_when_none_is_given(settings):
    settings.MEDICATION_RECONFIRM_MONTHS = 1
    two_months_ago = TODAY - timedelta(days=61)
    assert fact_state(kind=FactKind.MEDICATION, status="active", effective_date=two_months_ago, today=TODAY) == (
        FactState.POSSIBLY_STOPPED
    )


def test_old_allergies_and_problems_without_a_status_stay_current():
    assert state(FactKind.ALLERGY, "active", effective_date=date(1998, 5, 1)) == FactState.CURRENT
    assert state(FactKind.CONDITION, "", effective_date=date(1990, 1, 1)) == FactState.CURRENT


def test_an_end_date_in_the_past_finishes_an_active_treatment():
    ended = TODAY - timedelta(days=3)
    assert state(FactKind.MEDICATION, "active", effective_date=ended, effective_end=ended) == FactState.FINISHED


def test_an_end_date_to_come_keeps_an_old_prescription_current():
    assert (
        state(FactKind.MEDICATION, "active", effective_date=date(2024, 1, 1), effective_end=TODAY + timedelta(days=30))
        == FactState.CURRENT
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("actif", FactState.CURRENT),
        ("Résolu", FactState.FINISHED),
        ("inactif", FactState.FINISHED),
        ("Arrêté", FactState.FINISHED),
        ("on-hold", FactState.CURRENT),
        ("not-taken", FactState.FINISHED),
        ("aborted", FactState.FINISHED),
        ("Resolved", FactState.FINISHED),
        ("55561003", FactState.CURRENT),
    ],
)
def test_source_statuses_in_every_language_and_format(status, expected):
    assert state(FactKind.CONDITION, status, effective_date=TODAY - timedelta(days=10)) == expected


def test_a_refuted_problem_is_ruled_out():
    assert state(FactKind.CONDITION, "refuted", code_system=SNOMED, code="44054006") == FactState.RULED_OUT
    assert state(FactKind.CONDITION, "active", assertion=FactAssertion.ABSENT, code="44054006") == FactState.RULED_OUT


def test_no_known_allergy_by_its_snomed_code_is_none_known():
    assert state(FactKind.ALLERGY, "active", code_system=SNOMED, code="716186003") == FactState.NONE_KNOWN


def test_a_negated_cda_allergy_to_any_substance_is_none_known():
    # hl7-ccd-2.xml: negationInd="true" on an allergy whose agent is SNOMED 105590001 "Substance".
    assert state(FactKind.ALLERGY, "refuted", code_system=SNOMED, code="105590001") == FactState.NONE_KNOWN
    assert state(FactKind.ALLERGY, "", assertion=FactAssertion.ABSENT) == FactState.NONE_KNOWN  # agent nullFlavor


def test_the_parsers_none_known_assertion_is_none_known():
    assert state(FactKind.ALLERGY, "active", assertion=FactAssertion.NONE_KNOWN) == FactState.NONE_KNOWN


def test_a_refuted_allergy_to_a_named_substance_is_ruled_out():
    assert state(FactKind.ALLERGY, "refuted", code_system=SNOMED, code="764146007") == FactState.RULED_OUT


def test_events_are_done_unless_not_done_or_in_error():
    assert state(FactKind.IMMUNIZATION, "completed", effective_date=date(1990, 1, 1)) == FactState.DONE
    assert state(FactKind.IMMUNIZATION, "not done") == FactState.NOT_DONE
    assert state(FactKind.IMMUNIZATION, "completed", assertion=FactAssertion.ABSENT) == FactState.NOT_DONE
    assert state(FactKind.OBSERVATION, "final") == FactState.DONE
    assert state(FactKind.OBSERVATION, "entered-in-error") == FactState.ENTERED_IN_ERROR


# --- The same facts through every face -----------------------------------------------------------


@pytest.fixture
def world(alice_record):
    """A GP's trap list: the 2018 pyelonephritis, a 1975 "active" prescription, a current one, a
    finished one, "no known allergies" written as an allergy to "Substance", a refuted diabetes
    and a real allergy."""
    today = date.today()
    letter = DocumentFactory(record=alice_record, title="Lettre de liaison", care_date=date(2019, 10, 29))
    old = DocumentFactory(record=alice_record, title="Ordonnance 1975", care_date=date(1975, 3, 1))
    recent = DocumentFactory(record=alice_record, title="Ordonnance récente", care_date=today - timedelta(days=30))
    summary_doc = DocumentFactory(record=alice_record, title="CCD", care_date=date(2014, 10, 3))

    def fact(document, **fields) -> ClinicalFact:
        return ClinicalFact.objects.create(record=alice_record, source_document=document, **fields)

    facts = {
        "pyelonephritis": fact(
            letter,
            kind="condition",
            display="Pyélonéphrite aiguë",
            code_system="http://hl7.org/fhir/sid/icd-10",
            code="N10",
            status="completed",
            effective_date=date(2018, 10, 1),
        ),
        "old_prescription": fact(
            old, kind="medication", display="Phénobarbital", status="active", effective_date=date(1975, 3, 1)
        ),
        "metformin": fact(
            recent, kind="medication", display="Metformine 500 mg", status="active", effective_date=recent.care_date
        ),
        "finished": fact(
            letter, kind="medication", display="Solian 100 mg", status="completed", effective_date=date(2018, 8, 1)
        ),
        "no_known_allergy": fact(
            summary_doc,
            kind="allergy",
            display="Substance",
            code_system=SNOMED,
            code="105590001",
            status="refuted",
            assertion=FactAssertion.NONE_KNOWN,
            effective_date=date(2014, 10, 3),
        ),
        "refuted_diabetes": fact(
            letter,
            kind="condition",
            display="Diabète de type 2",
            code_system=SNOMED,
            code="44054006",
            status="refuted",
            assertion=FactAssertion.ABSENT,
        ),
        "penicillin": fact(
            summary_doc, kind="allergy", display="Penicillin", status="active", effective_date=date(2010, 1, 1)
        ),
    }
    expected = {
        "pyelonephritis": FactState.FINISHED,
        "old_prescription": FactState.POSSIBLY_STOPPED,
        "metformin": FactState.CURRENT,
        "finished": FactState.FINISHED,
        "no_known_allergy": FactState.NONE_KNOWN,
        "refuted_diabetes": FactState.RULED_OUT,
        "penicillin": FactState.CURRENT,
    }
    return SimpleNamespace(
        facts=facts, expected={str(facts[name].uuid): str(state) for name, state in expected.items()}
    )


def _summary_states(summary) -> dict[str, str]:
    lists = [summary.alerts, summary.problems, summary.medications, summary.possibly_stopped]
    lists += [summary.none_known, summary.ruled_out, summary.vaccinations]
    return {fact_id: str(line.state) for lines in lists for line in lines for fact_id in line.fact_ids}


def _api_summary_states(body: dict) -> dict[str, str]:
    keys = ("alerts", "problems", "medications", "medications_possibly_stopped", "none_known", "ruled_out")
    return {fact_id: line["state"] for key in keys for line in body[key] for fact_id in line["fact_ids"]}


def _pdf_states(html: str) -> dict[str, str]:
    """The state each entry of the PDF shows, by the words of its line."""
    states: dict[str, set[str]] = {}
    for row in html.splitlines():
        found = re.search(r'<span class="display">(.*?)</span>.*?data-state="(\w+)"', row)
        if found:
            states.setdefault(found.group(1), set()).add(found.group(2))
    return {display: next(iter(seen)) for display, seen in states.items() if len(seen) == 1} | {
        display: "several" for display, seen in states.items() if len(seen) > 1
    }


def test_every_face_says_the_same_state(as_user, alice, alice_record, world):
    summary = record_summary(actor=alice, record=alice_record)
    in_summary = _summary_states(summary)
    in_profile = {
        str(item.fact.uuid): str(item.state) for item in profile.profile_for(actor=alice, record=alice_record).facts
    }
    client = as_user(alice)
    in_summary_api = _api_summary_states(client.get(reverse("api_record_summary", args=[alice_record.uuid])).json())
    profile_api = client.get(reverse("api_profile_facts", args=[alice_record.uuid])).json()
    in_profile_api = {item["id"]: item["state"] for item in profile_api}

    assert in_profile == world.expected
    assert in_profile_api == world.expected
    shown = {fact_id: state for fact_id, state in world.expected.items() if state != FactState.FINISHED}
    assert in_summary == shown  # finished lines are in the profile only
    assert in_summary_api == shown
    pdf_states = _pdf_states(pdf.summary_html(summary=summary))
    shown_lines = [*summary.alerts, *summary.medications, *summary.possibly_stopped, *summary.none_known]
    lines = {line.fact_ids[0]: line.name or line.display for line in [*shown_lines, *summary.ruled_out]}
    assert {fact_id: pdf_states.get(display) for fact_id, display in lines.items()} == shown


def test_the_profile_api_keeps_the_source_status_beside_ours_with_the_last_confirmation(
    as_user, alice, alice_record, world
):
    listed = as_user(alice).get(reverse("api_profile_facts", args=[alice_record.uuid])).json()
    pyelonephritis = next(item for item in listed if item["id"] == str(world.facts["pyelonephritis"].uuid))
    assert (pyelonephritis["state"], pyelonephritis["source_status"]) == ("finished", "completed")
    # The letter of 29 October 2019 is its latest confirmation, not the onset of 1 October 2018.
    assert pyelonephritis["last_confirmed"] == "2019-10-29"


def test_one_fact_read_alone_has_the_state_it_has_in_the_list(as_user, alice, world):
    old = world.facts["old_prescription"]
    item = as_user(alice).get(reverse("api_profile_fact", args=[old.uuid])).json()
    assert (item["state"], item["source_status"], item["last_confirmed"]) == (
        "possibly_stopped",
        "active",
        "1975-03-01",
    )


def test_the_summary_api_keeps_the_source_status_and_last_confirmation(as_user, alice, alice_record, world):
    body = as_user(alice).get(reverse("api_record_summary", args=[alice_record.uuid])).json()
    [old] = body["medications_possibly_stopped"]
    assert (old["display"], old["state"], old["source_status"], old["last_confirmed"]) == (
        "Phénobarbital",
        "possibly_stopped",
        "active",
        "1975-03-01",
    )


def test_no_known_allergy_is_information_not_an_allergy_named_substance(alice, alice_record, world):
    summary = record_summary(actor=alice, record=alice_record)
    assert [line.name for line in summary.none_known] == ["No known allergy"]
    assert all(line.state == FactState.CURRENT for line in summary.alerts)
    assert "Substance" not in [line.name or line.display for line in summary.alerts]
    item = next(i for i in profile.profile_for(actor=alice, record=alice_record).facts if i.fact.code == "105590001")
    assert (item.display, item.status) == ("No known allergy", "none known")


def test_a_refuted_problem_is_not_an_alert_nor_a_problem(alice, alice_record, world):
    summary = record_summary(actor=alice, record=alice_record)
    assert "Diabète de type 2" not in [line.display for line in [*summary.alerts, *summary.problems]]
    assert [line.display for line in summary.ruled_out] == ["Diabète de type 2"]


def test_the_old_prescription_is_listed_apart_not_hidden(alice, alice_record, world):
    summary = record_summary(actor=alice, record=alice_record)
    assert [line.display for line in summary.medications] == ["Metformine 500 mg"]
    assert [line.display for line in summary.possibly_stopped] == ["Phénobarbital"]


def test_the_pdf_no_longer_prints_the_source_status(alice, alice_record, world):
    html = pdf.summary_html(summary=record_summary(actor=alice, record=alice_record))
    assert "(completed)" not in html
    assert "(active)" not in html
    assert "last confirmed" in html


def test_the_record_page_shows_state_and_last_confirmation(as_user, alice, alice_record, world):
    page = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    assert 'data-state="possibly_stopped"' in page
    assert "Possibly no longer taken" in page or "possibly no longer taken" in page
    assert "last confirmed" in page
