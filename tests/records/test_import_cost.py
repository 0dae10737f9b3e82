"""The import's work per document: each source read once, what the upload found not found again."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from apps.intake import inspection
from apps.records import crypto, documents
from apps.records.models import Document, DocumentStatus
from bench.documents import upload_mix
from tests.records.conftest import corpus, pdf_bytes
from tests.security.test_images import zero_png

pytestmark = pytest.mark.django_db


def _upload(actor, record, name: str, data: bytes) -> Document:
    # Stored and waiting, as a burst leaves it before the worker gets to it.
    return documents.document_upload(actor=actor, record=record, filename=name, data=data).document


@pytest.fixture
def queued(monkeypatch):
    """Uploads are stored but not handed to the (eager) broker: the test runs the worker's part."""
    monkeypatch.setattr(documents, "document_enqueue", lambda *, document_id: None)


def test_pdf_text_and_preview_come_from_one_reading():
    content = inspection.read_pdf(data=corpus("pdf/hl7-ud-sample.pdf").read_bytes())
    assert "Discharge Summary" in content.text
    assert Image.open(io.BytesIO(content.preview)).format == "PNG"


def test_worker_does_not_inspect_again_what_the_upload_inspected(queued, alice, alice_record, monkeypatch):
    document = _upload(alice, alice_record, "cr.pdf", corpus("pdf/fr-cr-biologie-tsh-fop.pdf").read_bytes())
    calls = []
    monkeypatch.setattr(inspection, "inspect_content", lambda **kwargs: calls.append(kwargs))

    assert documents.document_process(document_id=document.pk) == DocumentStatus.READY
    assert calls == []
    document.refresh_from_db()
    assert "TSH" in document.extracted_text
    assert default_storage.exists(document.preview_blob_name)


def test_a_row_without_a_known_kind_is_inspected_afresh(queued, alice, alice_record):
    document = _upload(alice, alice_record, "cr.pdf", pdf_bytes())
    Document.objects.filter(pk=document.pk).update(kind="", mime_type="")
    assert documents.document_process(document_id=document.pk) == DocumentStatus.READY


def test_an_image_is_decoded_once_for_its_check_and_its_preview(queued, alice, alice_record, monkeypatch):
    document = _upload(alice, alice_record, "scan.png", zero_png(300, 200, bit_depth=8))
    decodes = []
    original = Image.Image.load

    def spy(image):
        if getattr(image, "tile", None):  # pixels still to decode (a loaded image has none left)
            decodes.append(image.size)
        return original(image)

    monkeypatch.setattr(Image.Image, "load", spy)
    assert documents.document_process(document_id=document.pk) == DocumentStatus.READY
    assert decodes.count((300, 200)) == 1
    document.refresh_from_db()
    preview = crypto.read_decrypted(
        storage=default_storage, name=document.preview_blob_name, associated_id=f"{document.uuid}:preview"
    )
    assert preview.startswith(b"\x89PNG")


def test_a_damaged_image_is_still_refused_by_the_worker(queued, alice, alice_record, monkeypatch):
    document = _upload(alice, alice_record, "scan.png", zero_png(300, 200, bit_depth=8))

    def broken(image):
        raise OSError("broken data stream when reading image file")

    monkeypatch.setattr(Image.Image, "load", broken)
    assert documents.document_process(document_id=document.pk) == DocumentStatus.REJECTED
    document.refresh_from_db()
    assert document.rejection_code == "corrupt_image"
    assert not document.blob_name


def test_processing_a_pdf_costs_a_fixed_number_of_queries(queued, alice, alice_record):
    first = _upload(alice, alice_record, "a.pdf", pdf_bytes())
    second = _upload(alice, alice_record, "b.pdf", pdf_bytes(text_pages=2))
    documents.document_process(document_id=first.pk)  # warm the caches
    with CaptureQueriesContext(connection) as queries:
        assert documents.document_process(document_id=second.pk) == DocumentStatus.READY
    # Claim: UPDATE, SELECT. Complete: SELECT FOR UPDATE, UPDATE; the notification: followers,
    # preference, get_or_create (SELECT, INSERT), outbox INSERT. (What runs after the commit is
    # not counted here.) Before: 6 SELECT, the record read again and the claim a locked read.
    statements = Counter(query["sql"].split()[0] for query in queries.captured_queries)
    assert statements["SELECT"] == 5
    assert statements["UPDATE"] == 2
    assert statements["INSERT"] == 2


def test_a_burst_of_the_national_mix_is_all_imported(queued, alice, alice_record):
    items = upload_mix(24, 7, (alice_record.family_name, alice_record.given_names, alice_record.birth_date))
    ids = [_upload(alice, alice_record, name, data).pk for name, data in items]
    assert len(set(ids)) == len(items)  # every item has its own bytes: none deduplicated

    for document_id in ids:
        documents.document_process(document_id=document_id)

    statuses = Counter(Document.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {DocumentStatus.READY: len(items)}
