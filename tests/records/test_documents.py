"""The document pipeline: upload, import, structured facts, the person's actions."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.storage import default_storage

from apps.access.models import AccessEvent
from apps.access.refusals import RecordUnavailable
from apps.clinical.models import ClinicalFact
from apps.notifications.models import Notification, OutboxMessage
from apps.records import documents
from apps.records.models import Document, DocumentCategory, DocumentStatus, Record
from tests.records.conftest import corpus, pdf_bytes

FR_LAB = "fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml"


@pytest.fixture
def dominique(alice):
    """Alice's record carries the INS of the French test patient of the corpus."""
    Record.objects.filter(pk=alice.own_record.pk).update(ins="279035121518989", birth_date="1979-03-28")
    alice.own_record.refresh_from_db()
    return alice.own_record


def upload(run_tasks, actor, record, name, data):
    return run_tasks(documents.document_upload, actor=actor, record=record, filename=name, data=data)


def test_uploaded_pdf_becomes_ready_with_text_and_preview(run_tasks, alice, alice_record):
    data = corpus("pdf/fr-cr-biologie-tsh-fop.pdf").read_bytes()
    outcome = upload(run_tasks, alice, alice_record, "compte-rendu.pdf", data)
    document = Document.objects.get(pk=outcome.document.pk)
    assert document.status == DocumentStatus.READY
    assert "TSH" in document.extracted_text
    assert document.preview_blob_name
    assert default_storage.exists(document.preview_blob_name)
    assert document.mime_type == "application/pdf"


def test_stored_content_is_encrypted(run_tasks, alice, alice_record):
    data = corpus("pdf/fr-cr-biologie-tsh-fop.pdf").read_bytes()
    document = upload(run_tasks, alice, alice_record, "cr.pdf", data).document
    with default_storage.open(Document.objects.get(pk=document.pk).blob_name) as handle:
        raw = handle.read()
    assert data[:200] not in raw
    assert b"%PDF" not in raw


def test_person_is_notified_without_medical_content(run_tasks, alice, alice_record):
    upload(run_tasks, alice, alice_record, "Résultats VIH.pdf", pdf_bytes())
    notification = Notification.objects.get(recipient=alice)
    assert notification.event == "document_ready"
    message = OutboxMessage.objects.get(to=[alice.email])
    assert "VIH" not in message.subject + message.body
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_same_file_twice_is_one_document_and_the_person_is_told(run_tasks, alice, alice_record):
    data = pdf_bytes()
    first = upload(run_tasks, alice, alice_record, "a.pdf", data)
    second = upload(run_tasks, alice, alice_record, "b.pdf", data)
    assert second.duplicate is True
    assert second.document.pk == first.document.pk
    assert Document.objects.filter(record=alice_record).count() == 1


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.pdf", b"", "empty"),
        ("page.pdf", b"<!DOCTYPE html><html><body>hello</body></html>", "unsupported_type"),
        ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 200, "unsupported_type"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj\n<<", "corrupt_pdf"),
        ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "svg"),
        ("bad.json", b'{"resourceType": "Bundle", ', "malformed_json"),
    ],
)
def test_bad_upload_is_refused_with_a_reason_and_nothing_is_stored(run_tasks, alice, alice_record, name, data, code):
    with pytest.raises(documents.UploadRefused) as refusal:
        upload(run_tasks, alice, alice_record, name, data)
    assert refusal.value.code == code
    assert refusal.value.message  # a sentence for the person
    assert not Document.objects.exists()
    assert not default_storage.exists(f"documents/{alice_record.uuid}")


def test_file_over_the_size_limit_is_refused(run_tasks, alice, alice_record, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    with pytest.raises(documents.UploadRefused) as refusal:
        upload(run_tasks, alice, alice_record, "big.pdf", pdf_bytes() + b"%" * 2048)
    assert refusal.value.code == "too_large"
    assert "MB" in refusal.value.message
    assert not Document.objects.exists()


def test_stranger_cannot_upload_and_the_attempt_is_journaled(run_tasks, charlie, alice_record):
    with pytest.raises(RecordUnavailable):
        upload(run_tasks, charlie, alice_record, "x.pdf", pdf_bytes())
    assert not Document.objects.exists()
    event = AccessEvent.objects.order_by("-seq").first()
    assert (event.action, event.outcome, event.actor_uuid) == ("document.upload", "denied", charlie.uuid)


def test_french_lab_report_brings_structured_results(run_tasks, alice, dominique):
    document = upload(run_tasks, alice, dominique, "bio.xml", corpus(FR_LAB).read_bytes()).document
    document.refresh_from_db()
    assert document.status == DocumentStatus.READY, document.rejection_code
    assert document.type_code == "11502-2"
    assert document.category == DocumentCategory.LAB_RESULT
    observations = ClinicalFact.objects.filter(source_document=document, kind="observation")
    assert observations.exists()
    assert all(fact.record_id == dominique.pk for fact in observations)


def test_document_about_another_patient_is_refused_and_nothing_merged(run_tasks, alice, alice_record):
    data = corpus("synthea-fhir-r4/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json").read_bytes()
    document = upload(run_tasks, alice, alice_record, "export.json", data).document
    document.refresh_from_db()
    assert (document.status, document.rejection_code) == (DocumentStatus.REJECTED, "other_patient")
    assert not ClinicalFact.objects.exists()
    assert document.blob_name == ""
    assert not default_storage.listdir(f"documents/{alice_record.uuid}")[1]
    assert Notification.objects.get(recipient=alice).event == "import_failed"
    assert "another person" in documents.rejection_message(document.rejection_code)


def test_task_failing_midway_leaves_no_facts_and_no_preview(run_tasks, alice, dominique, monkeypatch):
    def crash(**kwargs):
        ClinicalFact.objects.create(record=dominique, kind="observation", display="half-written")
        raise RuntimeError("worker killed")

    monkeypatch.setattr("apps.clinical.services.facts_from_parsed", crash)
    document = upload(run_tasks, alice, dominique, "bio.xml", corpus(FR_LAB).read_bytes()).document
    document.refresh_from_db()
    assert document.status == DocumentStatus.PROCESSING
    assert not ClinicalFact.objects.exists()
    assert default_storage.listdir(f"documents/{dominique.uuid}")[1] == [document.blob_name.rsplit("/", 1)[1]]

    monkeypatch.undo()
    assert documents.document_process(document_id=document.pk) == DocumentStatus.READY
    assert ClinicalFact.objects.filter(source_document=document).exists()


def test_processing_twice_changes_nothing(run_tasks, alice, dominique):
    document = upload(run_tasks, alice, dominique, "bio.xml", corpus(FR_LAB).read_bytes()).document
    count = ClinicalFact.objects.count()
    assert documents.document_process(document_id=document.pk) == "skipped"
    assert ClinicalFact.objects.count() == count
    assert Notification.objects.filter(recipient=alice).count() == 1


def test_upload_with_broker_down_waits_and_is_resumed(run_tasks, alice, alice_record, monkeypatch):
    from kombu.exceptions import OperationalError

    from apps.intake import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.process_document, "delay", broker_down)
    document = upload(run_tasks, alice, alice_record, "a.pdf", pdf_bytes()).document
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.RECEIVED
    monkeypatch.undo()
    Document.objects.filter(pk=document.pk).update(created_at="2020-01-01T00:00:00Z")
    tasks.resume_stalled_documents()
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.READY


def test_deleting_a_document_removes_its_content_keeps_facts_and_journal(run_tasks, alice, dominique):
    document = upload(run_tasks, alice, dominique, "bio.xml", corpus(FR_LAB).read_bytes()).document
    document.refresh_from_db()
    blob = document.blob_name
    run_tasks(documents.document_delete, actor=alice, document_uuid=document.uuid)
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not default_storage.exists(blob)
    assert ClinicalFact.objects.filter(record=dominique, source_document__isnull=True).exists()
    assert AccessEvent.objects.filter(resource_uuid=document.uuid, action="document.delete").exists()


def test_parent_uploads_to_a_child_record(run_tasks, alice, alice_child):
    outcome = upload(run_tasks, alice, alice_child, "carnet.pdf", pdf_bytes())
    assert outcome.document.record == alice_child
    assert outcome.document.source == "patient"


def test_reading_content_is_journaled(run_tasks, alice, alice_record):
    document = upload(run_tasks, alice, alice_record, "a.pdf", pdf_bytes()).document
    _doc, data = documents.document_content(actor=alice, document_uuid=document.uuid)
    assert data.startswith(b"%PDF")
    assert AccessEvent.objects.filter(resource_uuid=document.uuid, action="document.read", outcome="allowed").exists()


def test_stranger_cannot_read_content(run_tasks, alice, alice_record, charlie):
    document = upload(run_tasks, alice, alice_record, "a.pdf", pdf_bytes()).document
    with pytest.raises(RecordUnavailable):
        documents.document_content(actor=charlie, document_uuid=document.uuid)
    assert AccessEvent.objects.filter(resource_uuid=document.uuid, actor_uuid=charlie.uuid, outcome="denied").exists()
