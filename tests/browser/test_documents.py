"""Documents: upload (with and without JavaScript), the timeline, one document, notifications.

The import task runs eagerly, in the live server's thread, once the upload commits:
a document is READY by the time the upload's answer arrives. The live server is
WSGI, so live.js's WebSocket fails and it falls back to a 15-second poll; the tests
never wait for it, they read the status after loading a page.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from PIL import Image
from playwright.sync_api import expect

from apps.records import documents
from apps.records.models import Document, DocumentStatus
from tests.browser.helpers import ConsoleErrors, field
from tests.factories import PASSWORD, RecordFactory, UserFactory

pytestmark = pytest.mark.browser

CORPUS = Path(settings.CORPUS_DIR)
LAB_PDF = CORPUS / "pdf" / "fr-cr-biologie-tsh-fop.pdf"
LAB_CDA = CORPUS / "fr-cda" / "BIO-CR-BIO_2024.01_TSH_1.xml"
INS = "279035121518989"  # the patient of the French corpus (ANS test identity)

# Chromium logs every answer in error; a refused upload's answer is a 400 on purpose.
BAD_REQUEST = re.compile(r"Failed to load resource: the server responded with a status of 400")


def fr(text: str) -> str:
    """``text`` as the French pages show it (the catalogue may or may not translate it yet)."""
    with translation.override("fr"):
        return translation.gettext(text)


RECEIVED = "Received. It is being processed; you will be told when it is ready."


@pytest.fixture
def dominique(db):
    """A patient whose own record is the one the French corpus documents are about."""
    user = UserFactory(email="dominique@example.test", display_name="Dominique Pat-Trois")
    RecordFactory(owner=user, family_name="Pat-Trois", given_names="Dominique", birth_date=date(1979, 3, 28), ins=INS)
    return user


def _photo(directory: Path, name: str = "ordonnance.jpg", colour: str = "#c8d7e6") -> Path:
    path = directory / name
    Image.new("RGB", (640, 480), colour).save(path, "JPEG", quality=80)
    return path


def _add(user, path: Path) -> Document:
    """Upload a file through the service (set-up for the tests that start from a document)."""
    outcome = documents.document_upload(actor=user, record=user.own_record, filename=path.name, data=path.read_bytes())
    return Document.objects.get(pk=outcome.document.pk)


def _record_path(user) -> str:
    return f"/records/{user.own_record.uuid}/"


def _send(ui, *files: Path) -> None:
    """On the upload page with JavaScript: choose files, send; each goes by XHR with a progress bar."""
    page = ui.page
    page.locator("#id_files").set_input_files([str(path) for path in files])
    page.locator("#upload-form button[type=submit]").click()
    expect(page.locator("#upload-progress > li")).to_have_count(len(files))


def _progress_line(page, name: str):
    return page.locator("#upload-progress > li").filter(has_text=name)


def test_upload_a_pdf_and_a_photo_then_read_the_notifications(ui, dominique, tmp_path):
    page = ui.page
    errors = ConsoleErrors(page)
    photo = _photo(tmp_path)
    ui.log_in(dominique.email, PASSWORD)
    ui.goto(_record_path(dominique))
    ui.submit(page.locator(f'main a[href="{_record_path(dominique)}upload/"]'))

    camera = field(page, "camera")
    expect(camera).to_have_attribute("capture", "environment")
    expect(field(page, "files")).to_have_attribute("multiple", "")
    _send(ui, LAB_PDF, photo)
    for name in (LAB_PDF.name, photo.name):
        line = _progress_line(page, name)
        expect(line).to_have_class("ok")
        expect(line).to_contain_text(fr(RECEIVED))
        expect(line.locator("progress")).to_have_js_property("value", 100)
        expect(line.get_by_role("link", name=name)).to_have_attribute(
            "href", re.compile(r"^/documents/[0-9a-f-]{36}/$")
        )
    ui.scan()  # with its progress lines

    ui.submit(page.locator(f'main a[href="{_record_path(dominique)}"]'))
    listed = page.locator("main li.document")
    expect(listed).to_have_count(2)
    for title in ("fr cr biologie tsh fop", "ordonnance"):
        item = listed.filter(has=page.get_by_role("link", name=title, exact=True))
        expect(item).to_have_class(re.compile(r"\bstatus-ready\b"))
        expect(item.locator("[data-status]")).to_have_count(0)
    unread = page.locator("header [data-unread-count]")
    expect(unread).to_be_visible()
    assert int(unread.inner_text()) > 0

    ui.submit(page.get_by_role("navigation").locator('a[href="/notifications/"]'))
    notices = page.locator("main ul.notifications > li")
    expect(notices).to_have_count(2)
    expect(notices.filter(has_text=fr("A new document is ready"))).to_have_count(2)
    expect(page.locator("main ul.notifications > li.unread")).to_have_count(2)
    for notice in notices.all():
        expect(notice.get_by_role("link")).to_have_attribute("href", re.compile(r"^/documents/[0-9a-f-]{36}/$"))

    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(ui.url("/notifications/"))
    expect(page.locator("main ul.notifications > li.read")).to_have_count(2)
    expect(page.locator("main ul.notifications > li.unread")).to_have_count(0)
    expect(unread).to_be_hidden()
    assert errors.unexpected() == []


def test_lab_report_shows_its_results_and_is_found_by_search(ui, dominique, tmp_path):
    page = ui.page
    errors = ConsoleErrors(page)
    _add(dominique, _photo(tmp_path))  # a second document, that the search must leave out
    ui.log_in(dominique.email, PASSWORD)
    ui.goto(f"{_record_path(dominique)}upload/")
    _send(ui, LAB_CDA)
    line = _progress_line(page, LAB_CDA.name)
    expect(line).to_have_class("ok")
    ui.submit(line.get_by_role("link", name=LAB_CDA.name))

    expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu d'examens biologiques")
    expect(page.locator("main [data-status]")).to_have_text(fr("ready").capitalize())
    tsh = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(r"^Thyréostimuline")))
    expect(tsh).to_have_count(1)
    expect(tsh).to_contain_text(re.compile(r"1[,.]950? mUI/L"))
    expect(tsh).to_contain_text(re.compile(r"\(0[,.]270?–4[,.]20?0?\)"))
    expect(page.locator("main dl.identity")).to_contain_text("11502-2")

    ui.submit(page.locator(f'main a[href="{_record_path(dominique)}"]'))
    expect(page.locator("main li.document")).to_have_count(2)
    expect(page.locator("main ul.chips > li")).to_have_count(2)  # lab results, other documents
    page.locator("main details.filters > summary").click()
    field(page, "q").fill("TSH")
    # The timeline's filters (the page also has the record's search box, another search landmark).
    ui.submit(page.get_by_role("search", name=fr("Search and filter")).get_by_role("button"))
    expect(page).to_have_url(re.compile(r"[?&]q=TSH(&|$)"))
    expect(page.locator("main details.filters")).to_have_attribute("open", "")
    found = page.locator("main li.document")
    expect(found).to_have_count(1)
    expect(found.get_by_role("link")).to_have_text("Compte rendu d'examens biologiques")
    assert errors.unexpected() == []


def test_html_renamed_pdf_is_refused_in_plain_words(ui, dominique, tmp_path):
    page = ui.page
    errors = ConsoleErrors(page)
    fake = tmp_path / "resultats.pdf"
    fake.write_text("<!DOCTYPE html><html><body><p>Résultats</p><script>alert(1)</script></body></html>")
    ui.log_in(dominique.email, PASSWORD)
    ui.goto(f"{_record_path(dominique)}upload/")
    _send(ui, fake)
    line = _progress_line(page, fake.name)
    expect(line).to_have_class("error")
    with translation.override("fr"):  # the page speaks the browser's language
        expected = documents.rejection_message("unsupported_type")
    expect(line).to_contain_text(expected)
    expect(line.get_by_role("link")).to_have_count(0)
    ui.scan()

    ui.submit(page.locator(f'main a[href="{_record_path(dominique)}"]'))
    expect(page.locator("main li.document")).to_have_count(0)
    expect(page.locator("main ul.chips")).to_have_count(0)
    assert not Document.objects.filter(record=dominique.own_record).exists()
    assert errors.unexpected(BAD_REQUEST) == []


def test_rename_hide_and_delete_documents(ui, dominique, tmp_path):
    page = ui.page
    report = _add(dominique, LAB_PDF)
    photo = _add(dominique, _photo(tmp_path))
    assert report.status == photo.status == DocumentStatus.READY
    ui.log_in(dominique.email, PASSWORD)
    ui.goto(f"/documents/{report.uuid}/")

    field(page, "title").fill("Bilan thyroïdien de mars")
    field(page, "category").select_option("lab_result")
    ui.submit(page.locator('main form[action$="/edit/"]').get_by_role("button"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan thyroïdien de mars")
    expect(page.locator("main .messages")).to_contain_text(fr("The document was changed."))
    expect(page.locator("main dl.identity")).to_contain_text(fr("Lab results"))

    ui.submit(page.locator('main form[action$="/mask/"]').get_by_role("button"))
    expect(page.locator("main .messages")).to_contain_text(fr("This document is now hidden from professionals."))
    expect(page.locator('main form[action$="/mask/"] input[name="masked"]')).to_have_value("0")
    report.refresh_from_db()
    assert (report.title, report.category, report.masked) == ("Bilan thyroïdien de mars", "lab_result", True)

    ui.goto(f"/documents/{photo.uuid}/")
    ui.submit(page.locator(f'main a[href="/documents/{photo.uuid}/delete/"]'))
    expect(page.get_by_role("heading", level=1)).to_have_text(fr("Delete this document?"))
    expect(page.locator("main")).to_contain_text(photo.title)
    ui.submit(page.locator("main form button.danger"))

    expect(page).to_have_url(ui.url(_record_path(dominique)))
    expect(page.locator("main .messages")).to_contain_text(fr("The document was deleted."))
    listed = page.locator("main li.document")
    expect(listed).to_have_count(1)
    expect(listed.get_by_role("link")).to_have_text("Bilan thyroïdien de mars")
    expect(listed).to_contain_text(fr("hidden from professionals"))
    expect(page.locator("main ul.chips")).to_contain_text(fr("Lab results"))
    assert not Document.objects.filter(pk=photo.pk).exists()


@pytest.mark.parametrize("context_options", [{"java_script_enabled": False}], ids=["no-js"])
def test_upload_form_works_without_javascript(ui, dominique):
    page = ui.page
    ui.log_in(dominique.email, PASSWORD)
    ui.goto(f"{_record_path(dominique)}upload/")
    field(page, "files").set_input_files([str(LAB_PDF), str(LAB_CDA)])
    ui.submit(page.locator("#upload-form button[type=submit]"))

    expect(page).to_have_url(ui.url(f"{_record_path(dominique)}upload/"))
    results = page.locator("main ul.results > li")
    expect(results).to_have_count(2)
    for name in (LAB_PDF.name, LAB_CDA.name):
        line = results.filter(has_text=name)
        expect(line).to_have_class("ok")
        expect(line).to_contain_text(fr(RECEIVED))
        expect(line.get_by_role("link")).to_have_attribute("href", re.compile(r"^/documents/[0-9a-f-]{36}/$"))
    expect(page.locator("#upload-progress > li")).to_have_count(0)

    ui.submit(page.locator(f'main a[href="{_record_path(dominique)}"]'))
    listed = page.locator("main li.document")
    expect(listed).to_have_count(2)
    expect(listed.filter(has=page.locator("[data-status]"))).to_have_count(0)
    assert Document.objects.filter(record=dominique.own_record, status=DocumentStatus.READY).count() == 2
