"""The summary PDF (issue 6): IPS sections, sources, background generation, encryption, access."""

from __future__ import annotations

import io
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from apps.access.models import AccessEvent
from apps.access.refusals import RecordUnavailable
from apps.clinical.models import ClinicalFact
from apps.summaries import exports, pdf
from apps.summaries.builder import record_summary
from apps.summaries.models import ExportStatus, SummaryExport
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db

IPS_SECTIONS = [
    "Alerts",
    "Allergies and intolerances",
    "Problem list",
    "Medication summary",
    "Immunizations",
    "Results",
]


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def facts(alice_record):
    lab = DocumentFactory(record=alice_record, title="Blood test March 2024")
    other_lab = DocumentFactory(record=alice_record, title="Blood test from the clinic")
    common = {"record": alice_record, "kind": "observation", "code_system": "http://loinc.org", "code": "4548-4"}
    ClinicalFact.objects.create(
        **common,
        source_document=lab,
        display="Hemoglobin A1c",
        effective_date=date(2024, 3, 4),
        value_decimal=Decimal("5.6"),
        unit="%",
        reference_low=Decimal("4"),
        reference_high=Decimal("6"),
    )
    ClinicalFact.objects.create(
        **common,
        source_document=other_lab,
        display="Hemoglobin A1c",
        effective_date=date(2024, 3, 4),
        value_decimal=Decimal("5.9"),
        unit="%",
    )
    ClinicalFact.objects.create(
        **common,
        source_document=lab,
        display="Hemoglobin A1c",
        effective_date=date(2023, 9, 1),
        value_decimal=Decimal("5.2"),
        unit="%",
    )
    ClinicalFact.objects.create(
        record=alice_record,
        kind="allergy",
        display="Penicillin allergy",
        detail="hives",
        origin="declared",
        declared_by_label="Alice Martin",
    )
    ClinicalFact.objects.create(
        record=alice_record,
        kind="condition",
        display="Type 2 diabetes",
        status="active",
        effective_date=date(2020, 1, 1),
        source_label="Old hospital letter",
    )
    ClinicalFact.objects.create(
        record=alice_record,
        kind="medication",
        display="Metformin 500 mg",
        status="active",
        detail="twice a day",
        source_document=lab,
    )
    ClinicalFact.objects.create(
        record=alice_record, kind="immunization", display="Tetanus booster", effective_date=date(2019, 5, 2)
    )
    return lab


def test_the_pdf_has_the_patient_the_ips_sections_values_and_sources(alice, alice_record, facts):
    text = _text(pdf.summary_pdf(summary=record_summary(actor=alice, record=alice_record)))
    assert "Alice MARTIN" in text
    assert "Generated on" in text
    positions = [text.index(name) for name in IPS_SECTIONS]
    assert positions == sorted(positions), "sections in the IPS order, alerts first"
    assert "5.6 %" in text or "5.9 %" in text
    assert "Blood test March 2024" in text
    assert "sources disagree: 5.6 % / 5.9 %" in text
    assert "declared by Alice Martin" in text
    assert "source deleted: Old hospital letter" in text
    assert "Metformin 500 mg" in text
    assert "Tetanus booster" in text
    assert "4 – 6" in text
    assert "rising" in text
    assert "page 1 of" in text


def test_page_counter_follows_the_translation():
    assert pdf.page_counter_css("page %(page)s of %(pages)s") == '"page " counter(page) " of " counter(pages)'
    assert pdf.page_counter_css('p. %(page)s/%(pages)s "x"') == '"p. " counter(page) "/" counter(pages) " \\"x\\""'


def test_a_small_record_is_ready_at_once_and_stored_encrypted(alice, alice_record, facts):
    export = exports.summary_export_request(actor=alice, record=alice_record)
    assert export.status == ExportStatus.READY
    assert export.progress == 100
    assert export.finished_at is not None
    with default_storage.open(export.blob_name, "rb") as handle:
        raw = handle.read()
    assert b"%PDF" not in raw
    assert b"Alice" not in raw
    data = exports.summary_export_download(actor=alice, export_uuid=export.uuid)
    assert data.startswith(b"%PDF")
    assert "Blood test March 2024" in _text(data)


def test_a_large_record_is_built_in_the_background(
    alice, alice_record, facts, settings, django_capture_on_commit_callbacks
):
    settings.SUMMARY_PDF_SYNC_MAX_FACTS = 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        export = exports.summary_export_request(actor=alice, record=alice_record)
    assert export.status == ExportStatus.PENDING
    assert export.progress == 0
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.progress == 100
    assert export.queued_at is not None
    assert _text(exports.summary_export_download(actor=alice, export_uuid=export.uuid)).count("Alice MARTIN") >= 1


def test_the_web_pages_start_follow_and_download(
    as_user, alice, alice_record, facts, settings, django_capture_on_commit_callbacks
):
    settings.SUMMARY_PDF_SYNC_MAX_FACTS = 0
    client = as_user(alice)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/records/{alice_record.uuid}/summary/pdf/")
    export = SummaryExport.objects.get(record=alice_record)
    assert response.status_code == 302
    assert response["Location"] == f"/summary-exports/{export.uuid}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert '<meta http-equiv="refresh" content="3">' in body
    assert '<progress id="export-progress" max="100" value="0">0 %</progress>' in body
    assert "/download/" not in body

    assert client.get(f"/summary-exports/{export.uuid}/download/").status_code == 302  # not ready yet

    with django_capture_on_commit_callbacks(execute=True):
        exports.summary_export_enqueue(export_id=export.pk)
    body = client.get(f"/summary-exports/{export.uuid}/").content.decode()
    assert 'http-equiv="refresh"' not in body
    assert f"/summary-exports/{export.uuid}/download/" in body
    download = client.get(f"/summary-exports/{export.uuid}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download.content.startswith(b"%PDF")


def test_the_api_starts_follows_and_downloads(as_user, alice, alice_record, facts):
    client = as_user(alice)
    response = client.post(f"/api/v1/records/{alice_record.uuid}/summary/pdf/")
    assert response.status_code == 202
    data = response.json()
    assert data["status"] == "ready"
    assert data["progress"] == 100
    detail = client.get(f"/api/v1/summary-exports/{data['id']}/").json()
    assert detail["download_url"] == f"/api/v1/summary-exports/{data['id']}/download/"
    download = client.get(detail["download_url"])
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")


def test_the_api_says_when_the_pdf_is_not_ready(as_user, alice, alice_record, facts, settings):
    settings.SUMMARY_PDF_SYNC_MAX_FACTS = 0
    client = as_user(alice)
    data = client.post(f"/api/v1/records/{alice_record.uuid}/summary/pdf/").json()
    assert data["status"] == "pending"
    response = client.get(f"/api/v1/summary-exports/{data['id']}/download/")
    assert response.status_code == 409
    assert response.json()["status"] == "pending"


def test_a_stranger_gets_404_on_request_and_download(as_user, alice, charlie, alice_record, facts):
    with pytest.raises(RecordUnavailable):
        exports.summary_export_request(actor=charlie, record=alice_record)
    assert not SummaryExport.objects.exists()
    client = as_user(charlie)
    assert client.post(f"/records/{alice_record.uuid}/summary/pdf/").status_code == 404
    assert client.post(f"/api/v1/records/{alice_record.uuid}/summary/pdf/").status_code == 404
    assert client.post(f"/records/{uuid.uuid4()}/summary/pdf/").status_code == 404

    export = exports.summary_export_request(actor=alice, record=alice_record)
    assert client.get(f"/summary-exports/{export.uuid}/").status_code == 404
    assert client.get(f"/summary-exports/{export.uuid}/download/").status_code == 404
    assert client.get(f"/api/v1/summary-exports/{export.uuid}/download/").status_code == 404
    assert client.get(f"/summary-exports/{uuid.uuid4()}/download/").status_code == 404
    assert AccessEvent.objects.filter(
        actor_uuid=charlie.uuid, record_uuid=alice_record.uuid, resource_type="summary_pdf", outcome="denied"
    ).exists()


def test_a_parent_may_download_what_they_requested_for_a_child(alice, alice_child):
    export = exports.summary_export_request(actor=alice, record=alice_child)
    assert exports.summary_export_download(actor=alice, export_uuid=export.uuid).startswith(b"%PDF")


def test_the_download_is_journaled(alice, alice_record, facts):
    export = exports.summary_export_request(actor=alice, record=alice_record)
    before = AccessEvent.objects.filter(resource_uuid=export.uuid).count()
    exports.summary_export_download(actor=alice, export_uuid=export.uuid)
    event = AccessEvent.objects.filter(resource_uuid=export.uuid).order_by("-seq").first()
    assert AccessEvent.objects.filter(resource_uuid=export.uuid).count() == before + 1
    assert event.actor_uuid == alice.uuid
    assert event.record_uuid == alice_record.uuid
    assert event.action == "profile.read"
    assert event.resource_type == "summary_pdf"
    assert event.outcome == "allowed"


def test_a_failed_render_ends_failed_with_the_error_and_no_blob(alice, alice_record, facts, monkeypatch):
    def broken(*, summary):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(pdf, "summary_pdf", broken)
    export = exports.summary_export_request(actor=alice, record=alice_record)
    assert export.status == ExportStatus.FAILED
    assert "renderer exploded" in export.error
    assert export.blob_name == ""
    assert export.finished_at is not None
    assert not default_storage.exists(f"summaries/{alice_record.uuid}/{export.uuid}.pdf")
    with pytest.raises(exports.ExportNotReady):
        exports.summary_export_download(actor=alice, export_uuid=export.uuid)


def test_a_finished_export_is_not_built_again(alice, alice_record, facts, monkeypatch):
    export = exports.summary_export_request(actor=alice, record=alice_record)
    blob = export.blob_name
    monkeypatch.setattr(pdf, "summary_pdf", lambda *, summary: pytest.fail("rendered twice"))
    assert exports.summary_export_build(export_id=export.pk) == ExportStatus.READY
    export.refresh_from_db()
    assert export.blob_name == blob


def test_a_broker_outage_leaves_the_export_pending_and_beat_resumes_it(
    alice, alice_record, facts, settings, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.summaries import tasks

    settings.SUMMARY_PDF_SYNC_MAX_FACTS = 0

    def down(*args, **kwargs):
        raise OSError("broker down")

    monkeypatch.setattr(tasks.build_summary_pdf, "delay", down)
    export = exports.summary_export_request(actor=alice, record=alice_record)
    exports.summary_export_enqueue(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == ExportStatus.PENDING
    assert export.queued_at is None
    assert exports.summary_exports_stalled() == []  # younger than a minute
    SummaryExport.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    monkeypatch.undo()
    assert tasks.resume_stalled_summary_exports() == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.progress == 100


def test_old_exports_are_purged_with_their_pdf_and_can_no_longer_be_downloaded(alice, alice_record, facts):
    from datetime import timedelta

    from django.utils import timezone

    old = exports.summary_export_request(actor=alice, record=alice_record)
    old.refresh_from_db()
    recent = exports.summary_export_request(actor=alice, record=alice_record)
    SummaryExport.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))

    assert exports.summary_exports_purge() == 1

    assert not default_storage.exists(old.blob_name)
    assert list(SummaryExport.objects.values_list("pk", flat=True)) == [recent.pk]
    with pytest.raises(RecordUnavailable):
        exports.summary_export_download(actor=alice, export_uuid=old.uuid)
    assert AccessEvent.objects.filter(resource_uuid=old.uuid).exists()  # the journal keeps the request


def test_an_export_still_being_made_is_never_purged(alice, alice_record, facts):
    from datetime import timedelta

    from django.utils import timezone

    export = exports.summary_export_request(actor=alice, record=alice_record)
    SummaryExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, created_at=timezone.now() - timedelta(days=30)
    )
    assert exports.summary_exports_purge() == 0
    assert SummaryExport.objects.filter(pk=export.pk).exists()
