"""Dates of care through the real pipeline: what a PDF states, what the person sets on upload or
later (web page and API), and what a structured source says of the person's identity."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from apps.access.models import AccessEvent
from apps.clinical.parsing import ParsedDocument, PatientIdentity
from apps.records import documents
from apps.records.models import Document, DocumentStatus, Record
from tests.factories import DocumentFactory
from tests.records.conftest import corpus, pdf_bytes

EXAM_TEXT = "Centre d'imagerie du Parc\nCompte rendu d'echographie\nDate de l'examen : 12/03/2024\nResultat normal"


def text_pdf(*pages: str, info: dict[str, str] | None = None) -> bytes:
    """A PDF with real text (Helvetica, one line per "\\n"), one page per argument."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    for text in pages:
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        lines = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in text.split("\n")]
        shown = b" T* ".join(b"(" + line.encode("cp1252") + b") Tj" for line in lines)
        stream = DecodedStreamObject()
        stream.set_data(b"BT /F1 11 Tf 14 TL 40 800 Td " + shown + b" ET")
        page[NameObject("/Contents")] = writer._add_object(stream)
    if info:
        writer.add_metadata(info)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def upload(run_tasks, actor, record, data: bytes, name: str = "cr.pdf", **kwargs) -> Document:
    outcome = run_tasks(documents.document_upload, actor=actor, record=record, filename=name, data=data, **kwargs)
    return Document.objects.get(pk=outcome.document.pk)


def stored_files() -> list[str]:
    _dirs, files = default_storage.listdir("documents") if default_storage.exists("documents") else ([], [])
    return files + [f for d in _dirs for f in default_storage.listdir(f"documents/{d}")[1]]


# --- What a PDF states --------------------------------------------------------------------------


def test_uploaded_pdf_with_a_labelled_date_gets_it_as_date_of_care_from_its_text(run_tasks, alice, alice_record):
    document = upload(run_tasks, alice, alice_record, text_pdf(EXAM_TEXT))
    assert document.status == DocumentStatus.READY
    assert (document.care_date, document.care_date_source) == (date(2024, 3, 12), "text")


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("pdf/hl7-ud-sample.pdf", date(2009, 3, 26)),  # "Date of Discharge: 03/26/2009"
        ("pdf/fr-cr-biologie-tsh-fop.pdf", date(2021, 4, 1)),  # "Compte rendu d'examens biologiques 1 avril 2021"
    ],
)
def test_corpus_reports_get_the_date_their_first_page_states(run_tasks, alice, alice_record, name, day):
    document = upload(run_tasks, alice, alice_record, corpus(name).read_bytes())
    assert (document.care_date, document.care_date_source) == (day, "text")


def test_a_date_on_a_later_page_only_is_not_taken(run_tasks, alice, alice_record):
    document = upload(run_tasks, alice, alice_record, text_pdf("Compte rendu d'echographie", EXAM_TEXT))
    assert "12/03/2024" in document.extracted_text
    assert (document.care_date, document.care_date_source) == (None, "")


def test_a_birth_date_on_the_first_page_is_not_a_date_of_care(run_tasks, alice, alice_record):
    document = upload(run_tasks, alice, alice_record, text_pdf("Patiente : Alice MARTIN\nNee le 12/03/1979"))
    assert document.care_date is None


def test_pdf_metadata_naming_the_date_of_care_is_taken(run_tasks, alice, alice_record):
    document = upload(run_tasks, alice, alice_record, text_pdf("Compte rendu", info={"/CareDate": "D:20240312"}))
    assert (document.care_date, document.care_date_source) == (date(2024, 3, 12), "pdf_metadata")


def test_pdf_creation_date_is_not_a_date_of_care(run_tasks, alice, alice_record):
    data = text_pdf("Compte rendu", info={"/CreationDate": "D:20240312093000", "/ModDate": "D:20240313093000"})
    document = upload(run_tasks, alice, alice_record, data)
    assert document.care_date is None


def test_the_timeline_orders_by_the_date_of_care_found(run_tasks, alice, alice_record):
    from apps.records.timeline import documents_timeline

    older_care = upload(run_tasks, alice, alice_record, text_pdf(EXAM_TEXT), name="echo.pdf")
    added_today = upload(run_tasks, alice, alice_record, pdf_bytes(), name="scan.pdf")
    page = documents_timeline(actor=alice, record=alice_record)
    assert [(d.pk, d.sort_day) for d in page.documents] == [
        (added_today.pk, timezone.localdate(added_today.created_at)),
        (older_care.pk, date(2024, 3, 12)),
    ]


# --- Set by the person on upload -------------------------------------------------------------------


def test_a_date_given_on_upload_wins_over_the_one_the_document_states(run_tasks, alice, alice_record):
    document = upload(run_tasks, alice, alice_record, text_pdf(EXAM_TEXT), care_date=date(2024, 3, 10))
    assert (document.care_date, document.care_date_source) == (date(2024, 3, 10), "person")


def test_a_future_date_on_upload_is_refused_and_nothing_is_written(run_tasks, alice, alice_record):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(documents.CareDateRefused) as refusal:
        upload(run_tasks, alice, alice_record, text_pdf(EXAM_TEXT), care_date=tomorrow)
    assert refusal.value.field == "care_date"
    assert "future" in refusal.value.message
    assert not Document.objects.exists()
    assert stored_files() == []


def test_a_date_before_the_birth_date_is_refused(run_tasks, alice, alice_record):
    with pytest.raises(documents.CareDateRefused) as refusal:
        upload(run_tasks, alice, alice_record, pdf_bytes(), care_date=date(1979, 3, 11))
    assert "birth date (1979-03-12)" in refusal.value.message
    assert not Document.objects.exists()


def test_upload_page_sets_the_date_of_care(as_user, alice, alice_record, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(alice).post(
            reverse("document_upload", args=[alice_record.uuid]),
            {"files": [SimpleUploadedFile("scan.pdf", pdf_bytes())], "care_date": "2024-01-05"},
        )
    assert response.status_code == 200
    document = Document.objects.get(record=alice_record)
    assert (document.care_date, document.care_date_source) == (date(2024, 1, 5), "person")


def test_upload_page_shows_the_date_field(as_user, alice, alice_record):
    page = as_user(alice).get(reverse("document_upload", args=[alice_record.uuid])).content.decode()
    assert 'name="care_date"' in page
    assert 'type="date"' in page


def test_upload_page_refuses_a_future_date_with_its_reason_and_writes_nothing(as_user, alice, alice_record):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = as_user(alice).post(
        reverse("document_upload", args=[alice_record.uuid]),
        {"files": [SimpleUploadedFile("scan.pdf", pdf_bytes())], "care_date": tomorrow},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["care_date"] == ["The date of care cannot be in the future."]
    assert "The date of care cannot be in the future." in response.content.decode()
    assert not Document.objects.exists()


def test_upload_script_gets_the_reason_for_each_file(as_user, alice, alice_record):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = as_user(alice).post(
        reverse("document_upload", args=[alice_record.uuid]),
        {"files": [SimpleUploadedFile("scan.pdf", pdf_bytes())], "care_date": tomorrow},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["results"] == [
        {"name": "scan.pdf", "ok": False, "message": "The date of care cannot be in the future."}
    ]
    assert not Document.objects.exists()


def test_api_upload_with_a_date_of_care(as_user, alice, alice_record, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(alice).post(
            f"/api/v1/records/{alice_record.uuid}/documents/",
            {"file": SimpleUploadedFile("scan.pdf", pdf_bytes()), "care_date": "2024-01-05"},
        )
    assert response.status_code == 201
    assert (response.json()["care_date"], response.json()["care_date_source"]) == ("2024-01-05", "person")
    assert Document.objects.get(record=alice_record).care_date == date(2024, 1, 5)


def test_api_upload_refuses_a_future_date_on_its_field_and_writes_nothing(as_user, alice, alice_record):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = as_user(alice).post(
        f"/api/v1/records/{alice_record.uuid}/documents/",
        {"file": SimpleUploadedFile("scan.pdf", pdf_bytes()), "care_date": tomorrow},
    )
    assert response.status_code == 400
    assert response.json()["care_date"] == ["The date of care cannot be in the future."]
    assert not Document.objects.exists()


def test_api_upload_refuses_what_is_not_a_date(as_user, alice, alice_record):
    response = as_user(alice).post(
        f"/api/v1/records/{alice_record.uuid}/documents/",
        {"file": SimpleUploadedFile("scan.pdf", pdf_bytes()), "care_date": "12 mars"},
    )
    assert response.status_code == 400
    assert "care_date" in response.json()
    assert not Document.objects.exists()


# --- Set by the person later -----------------------------------------------------------------------


def test_document_edit_sets_the_date_of_care_as_the_persons_and_journals_it(alice, alice_record):
    document = DocumentFactory(record=alice_record, care_date=date(2024, 3, 12), care_date_source="text")
    documents.document_update(actor=alice, document_uuid=document.uuid, care_date=date(2024, 3, 10))
    document.refresh_from_db()
    assert (document.care_date, document.care_date_source) == (date(2024, 3, 10), "person")
    assert AccessEvent.objects.filter(action="document.edit", resource_uuid=document.uuid, outcome="allowed").exists()


def test_document_edit_refuses_a_future_date_and_keeps_the_old_one(alice, alice_record):
    document = DocumentFactory(record=alice_record, care_date=date(2024, 3, 12), care_date_source="text")
    with pytest.raises(documents.CareDateRefused):
        documents.document_update(
            actor=alice, document_uuid=document.uuid, care_date=timezone.localdate() + timedelta(days=1)
        )
    document.refresh_from_db()
    assert (document.care_date, document.care_date_source) == (date(2024, 3, 12), "text")


def test_a_stranger_cannot_set_the_date_of_care(charlie, alice_record):
    from apps.access.refusals import RecordUnavailable

    document = DocumentFactory(record=alice_record)
    with pytest.raises(RecordUnavailable):
        documents.document_update(actor=charlie, document_uuid=document.uuid, care_date=date(2024, 3, 10))
    document.refresh_from_db()
    assert document.care_date is None


def test_document_page_edit_form_sets_the_date_of_care(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Scan", category="report")
    as_user(alice).post(
        reverse("document_edit", args=[document.uuid]),
        {"title": "Scan", "category": "report", "care_date": "2024-02-29"},
    )
    document.refresh_from_db()
    assert (document.care_date, document.care_date_source) == (date(2024, 2, 29), "person")


def test_document_page_says_where_the_date_of_care_comes_from(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, care_date=date(2024, 3, 12), care_date_source="text")
    page = as_user(alice).get(reverse("document_detail", args=[document.uuid])).content.decode()
    assert "read on the document&#x27;s first page" in page


def test_document_page_edit_form_refuses_a_future_date_with_its_reason(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Scan", category="report")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = as_user(alice).post(
        reverse("document_edit", args=[document.uuid]),
        {"title": "Scan", "category": "report", "care_date": tomorrow},
        follow=True,
    )
    assert "The date of care cannot be in the future." in response.content.decode()
    document.refresh_from_db()
    assert document.care_date is None


def test_api_patch_sets_the_date_of_care(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    response = as_user(alice).patch(
        f"/api/v1/documents/{document.uuid}/", {"care_date": "2024-03-10"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["care_date"], response.json()["care_date_source"]) == ("2024-03-10", "person")


def test_api_patch_refuses_a_date_before_birth_on_its_field(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    response = as_user(alice).patch(
        f"/api/v1/documents/{document.uuid}/", {"care_date": "1900-01-01"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "birth date" in response.json()["care_date"][0]
    document.refresh_from_db()
    assert document.care_date is None


# --- What a structured source says of the person -----------------------------------------------


@pytest.fixture
def with_ins(alice_record) -> Record:
    Record.objects.filter(pk=alice_record.pk).update(ins="279035121518989")
    alice_record.refresh_from_db()
    return alice_record


def parsed_with(patient: PatientIdentity) -> ParsedDocument:
    return ParsedDocument(format="fhir", patient=patient, title="Bilan", care_date=date(2024, 1, 30))


def test_a_document_saying_the_person_died_is_marked_with_its_identity_flags(run_tasks, alice, with_ins, monkeypatch):
    patient = PatientIdentity(
        family_name="Martin",
        given_names="Alicia",
        birth_date=date(1979, 3, 12),
        ins="279035121518989",
        identifiers=[("urn:oid:1.2.250.1.213.1.4.10", "279035121518989")],
        deceased=True,
        deceased_on=date(2024, 2, 1),
    )
    monkeypatch.setattr(documents, "_parse", lambda data, kind: parsed_with(patient))
    document = upload(run_tasks, alice, with_ins, b'{"resourceType": "Bundle"}', name="bundle.json")
    assert document.status == DocumentStatus.READY
    assert (document.patient_deceased, document.patient_deceased_on) == (True, date(2024, 2, 1))
    assert document.identity_flags == ["ins_test_identifier", "name_differs"]
    assert (document.care_date, document.care_date_source) == (date(2024, 1, 30), "document")


def test_a_structured_date_does_not_replace_the_persons(run_tasks, alice, with_ins, monkeypatch):
    patient = PatientIdentity(family_name="Martin", given_names="Alice", ins="279035121518989")
    monkeypatch.setattr(documents, "_parse", lambda data, kind: parsed_with(patient))
    document = upload(
        run_tasks, alice, with_ins, b'{"resourceType": "Bundle"}', name="bundle.json", care_date=date(2024, 1, 2)
    )
    assert (document.care_date, document.care_date_source) == (date(2024, 1, 2), "person")
    assert (document.patient_deceased, document.identity_flags) == (False, [])


@pytest.mark.parametrize(
    ("patient", "flags"),
    [
        (PatientIdentity(family_name="MARTIN", given_names="alice", ins="279035121518989"), []),
        (PatientIdentity(family_name="Dupont", given_names="Alice", ins="279035121518989"), ["name_differs"]),
        (
            PatientIdentity(family_name="Martin", birth_date=date(1979, 3, 13), ins="279035121518989"),
            ["birth_date_differs"],
        ),
        (
            PatientIdentity(ins="279035121518989", identifiers=[("urn:oid:1.2.250.1.213.1.4.8", "279035121518989")]),
            [],
        ),
        # Without an INS on both sides the traits had to agree for the document to be taken.
        (PatientIdentity(family_name="Martin", given_names="Alice", birth_date=date(1979, 3, 12)), []),
    ],
)
def test_identity_flags(with_ins, patient, flags):
    assert documents.identity_flags(patient, with_ins) == flags
