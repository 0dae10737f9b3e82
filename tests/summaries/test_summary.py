"""The summary: what matters now, each line one tap from its source, in constant queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.access.models import CareRelationship
from apps.clinical.models import ClinicalFact, RectificationRequest
from apps.intake.importing import import_file, import_service
from apps.records.models import Document, Record
from apps.summaries.builder import record_summary
from tests.factories import DocumentFactory, RecordFactory

SYNTHEA_CHET = Path(settings.CORPUS_DIR, "synthea-fhir-r4/Chet_Hoeger_5c6db3d0-c0fc-4eb7-8eae-dbc7847be741.json")
FR_LETTER = Path(settings.CORPUS_DIR, "fr-cda/LDL-EES_2022.01.xml")


@pytest.fixture
def chet(db, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = import_file(SYNTHEA_CHET, actor=import_service("test"), create_records=True)
    record = Record.objects.get(uuid=report.record)
    record.owner = alice.__class__.objects.create_user("chet@example.test", "x" * 12)
    record.save()
    return record


def fact(record, document, **fields):
    defaults = {"kind": "observation", "display": "HbA1c", "code_system": "http://loinc.org", "code": "4548-4"}
    return ClinicalFact.objects.create(record=record, source_document=document, **{**defaults, **fields})


def test_imported_chronic_record_shows_active_problems_and_results_with_trends(chet):
    summary = record_summary(actor=chet.owner, record=chet)
    assert {line.display for line in summary.problems} == {"Cardiac Arrest", "History of cardiac arrest (situation)"}
    assert any(line.display == "Cardiac Arrest" for line in summary.alerts)
    assert "Viral sinusitis (disorder)" not in [line.display for line in summary.problems]  # resolved
    weights = [s for s in summary.results if s.code == "29463-7"]
    assert len(weights[0].points) >= 2
    assert weights[0].trend in ("up", "down", "stable")
    assert weights[0].latest.sources[0].document_id == str(chet.documents.get().uuid)


def test_french_letter_brings_its_allergy_and_its_finished_problem_and_medication(
    alice, alice_record, django_capture_on_commit_callbacks
):
    Record.objects.filter(pk=alice_record.pk).update(ins="279035121518989")
    alice_record.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        import_file(FR_LETTER, actor=import_service("test"), record=alice_record)
    summary = record_summary(actor=alice, record=alice_record)
    assert [line.display for line in summary.alerts] == ["PARACETAMOL"]
    # The 2018 pyelonephritis' concern act is "completed" and SOLIAN's substanceAdministration too:
    # both are finished, on the summary as in the profile (issue 13: one status rule).
    assert [line.display for line in summary.problems] == []
    assert [line.display for line in summary.medications + summary.possibly_stopped] == []


def test_latest_value_and_its_source_are_on_the_first_screen(as_user, alice, alice_record):
    old = DocumentFactory(record=alice_record, title="Bilan de mars")
    new = DocumentFactory(record=alice_record, title="Bilan de juin")
    fact(alice_record, old, value_decimal=Decimal("7.9"), unit="%", effective_date=date(2024, 3, 1))
    fact(alice_record, new, value_decimal=Decimal("7.1"), unit="%", effective_date=date(2024, 6, 1))
    page = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    summary_html = page[page.index('id="summary-title"') : page.index('id="categories-title"')]
    assert "7.1 %" in summary_html
    assert "Bilan de juin" in summary_html
    assert reverse("document_detail", args=[new.uuid]) in summary_html
    assert "falling" in summary_html
    assert "<svg" in summary_html


def test_duplicates_across_sources_are_merged_and_conflicts_shown(alice, alice_record):
    lab, letter = (
        DocumentFactory(record=alice_record, title="Lab"),
        DocumentFactory(record=alice_record, title="Letter"),
    )
    day = date(2024, 5, 2)
    fact(alice_record, lab, value_decimal=Decimal("6.5"), unit="%", effective_date=day)
    fact(alice_record, letter, value_decimal=Decimal("6.5"), unit="%", effective_date=day)
    fact(alice_record, lab, kind="allergy", display="Penicillin", code="7980", value_decimal=None, effective_date=day)
    fact(
        alice_record, letter, kind="allergy", display="Penicillin", code="7980", value_decimal=None, effective_date=day
    )
    summary = record_summary(actor=alice, record=alice_record)
    hba1c = next(s for s in summary.results if s.code == "4548-4")
    assert [src.title for src in hba1c.latest.sources] == ["Lab", "Letter"]
    assert hba1c.latest.conflict == []
    assert len([a for a in summary.alerts if a.display == "Penicillin"]) == 1

    fact(alice_record, letter, value_decimal=Decimal("6.9"), unit="%", effective_date=day)
    hba1c = next(s for s in record_summary(actor=alice, record=alice_record).results if s.code == "4548-4")
    assert hba1c.latest.conflict == ["6.5 %", "6.9 %"]


def test_fact_whose_document_was_deleted_is_kept_and_says_so(alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Old letter")
    fact(alice_record, document, kind="condition", display="Asthma", code="195967001", source_label="Old letter")
    Document.objects.filter(pk=document.pk).delete()
    summary = record_summary(actor=alice, record=alice_record)
    asthma = next(line for line in summary.problems if line.display == "Asthma")
    assert asthma.sources[0].deleted
    assert asthma.sources[0].title == "Old letter"
    assert asthma in summary.alerts or any(a.display == "Asthma" for a in summary.alerts)


def test_resolved_problems_and_stopped_medications_are_not_current(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    fact(alice_record, document, kind="condition", display="Flu", code="6142004", status="resolved")
    fact(alice_record, document, kind="medication", display="Amoxicillin", code="723", status="stopped")
    fact(
        alice_record,
        document,
        kind="medication",
        display="Old pill",
        code="1",
        effective_end=date.today() - timedelta(days=3),
    )
    fact(alice_record, document, kind="medication", display="Metformin", code="860975", status="active")
    summary = record_summary(actor=alice, record=alice_record)
    assert [line.display for line in summary.problems] == []
    assert [line.display for line in summary.medications] == ["Metformin"]


def test_rectification_request_is_shown_with_the_fact(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    wrong = fact(alice_record, document, kind="allergy", display="Latex", code="111088007")
    RectificationRequest.objects.create(fact=wrong, requested_by=alice, reason="I was never allergic to latex")
    summary = record_summary(actor=alice, record=alice_record)
    assert summary.alerts[0].rectification == "I was never allergic to latex"


def test_professional_sees_the_summary_without_facts_from_hidden_documents(alice, alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    shown = DocumentFactory(record=alice_record, category="lab_result")
    hidden = DocumentFactory(record=alice_record, category="lab_result", masked=True)
    fact(alice_record, shown, display="TSH", code="3016-3", value_decimal=Decimal("2"), effective_date=date(2024, 1, 1))
    fact(
        alice_record, hidden, display="HIV test", code="75622-1", value_text="negative", effective_date=date(2024, 1, 1)
    )
    displays = [s.display for s in record_summary(actor=dr_martin, record=alice_record).results]
    assert displays == ["TSH"]


def test_new_since_the_last_visit(alice, alice_record):
    record_summary(actor=alice, record=alice_record)  # first visit
    document = DocumentFactory(record=alice_record, title="Arrived later")
    summary = record_summary(actor=alice, record=alice_record)
    assert summary.since is not None
    assert [d.pk for d in summary.new_documents] == [document.pk]


def test_api_summary_lines_carry_source_document_ids(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Bilan")
    fact(alice_record, document, value_decimal=Decimal("7.1"), unit="%", effective_date=date(2024, 6, 1))
    body = as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/summary/").json()
    latest = body["results"][0]["latest"]
    assert (latest["value"], latest["unit"]) == ("7.1", "%")
    assert latest["sources"][0]["document_id"] == str(document.uuid)


@pytest.mark.parametrize("persona", ["charlie", "sam", "olga", "dr_martin"])
def test_api_summary_refuses_those_without_access(request, as_user, alice_record, persona):
    actor = request.getfixturevalue(persona)
    assert as_user(actor).get(f"/api/v1/records/{alice_record.uuid}/summary/").status_code == 404


def _page_queries(client, record) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("record_detail", args=[record.uuid])).status_code == 200
    return len([q for q in ctx.captured_queries if not q["sql"].startswith('INSERT INTO "access_accessevent"')])


def _documents_with_facts(record, count: int, start: int) -> None:
    documents = Document.objects.bulk_create(
        Document(record=record, title=f"Doc {i}", source="patient", status="ready", content_hash=f"{i:064x}", size=1)
        for i in range(start, start + count)
    )
    ClinicalFact.objects.bulk_create(
        ClinicalFact(
            record=record,
            source_document=document,
            kind="observation",
            display="Weight",
            code="29463-7",
            code_system="http://loinc.org",
            value_decimal=Decimal(60 + i % 20),
            unit="kg",
            effective_date=date(2020, 1, 1) + timedelta(days=i),
        )
        for i, document in enumerate(documents)
    )


def test_record_first_screen_runs_the_same_queries_for_31_and_2000_documents(as_user, alice):
    record = RecordFactory(owner=None)
    record.guardianships.create(guardian=alice)
    client = as_user(alice)
    _documents_with_facts(record, 31, 0)
    client.get(reverse("record_detail", args=[record.uuid]))
    few = _page_queries(client, record)
    _documents_with_facts(record, 1969, 31)
    assert _page_queries(client, record) == few
