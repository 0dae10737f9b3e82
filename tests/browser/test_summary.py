"""The record's first screen: "what matters now", every line one tap from the document that says it.

The records are built from the corpus through the import pipeline (the eager
Celery task runs once the upload commits), then given an owner who logs in.
Our own strings are matched through gettext or not at all: the summary is found
by its ids (#summary-title, #results-title, ...) and classes (.result, a.source).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format, number_format
from playwright.sync_api import expect

from apps.clinical.models import ClinicalFact
from apps.clinical.naming import display_name
from apps.intake.importing import import_file, import_service
from apps.records.models import Document, DocumentStatus, Record
from apps.summaries.builder import unit_display
from tests.browser.helpers import ConsoleErrors
from tests.factories import PASSWORD, RecordFactory, UserFactory

pytestmark = pytest.mark.browser

CORPUS = Path(settings.CORPUS_DIR)
CHET = CORPUS / "synthea-fhir-r4" / "Chet_Hoeger_5c6db3d0-c0fc-4eb7-8eae-dbc7847be741.json"
LAB_CDA = CORPUS / "fr-cda" / "BIO-CR-BIO_2024.01_TSH_1.xml"
INS = "279035121518989"  # the patient of the French corpus (ANS test identity)
BODY_WEIGHT = "29463-7"  # LOINC
TSH = "Thyréostimuline"
EARLIER_PART_BEFORE = "2018-01-01"  # Chet's bundle holds body weights from 2011 to 2020
VALUE_AND_UNIT = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s+(.+?)\s*$")


def fr(text: str) -> str:
    """``text`` as the French pages show it (the catalogue may or may not translate it yet)."""
    with translation.override("fr"):
        return translation.gettext(text)


def fr_date(day: date) -> str:
    with translation.override("fr"):
        return date_format(day, "j M Y")


def fr_number(value: Decimal) -> str:
    """As the chart's accessible name says it: two decimals at most, French conventions."""
    with translation.override("fr"):
        return number_format(_shown(value), use_l10n=True)


def _shown(value: Decimal) -> Decimal:
    """The summary shows at most two decimals."""
    return value.quantize(Decimal("0.01")).normalize()


def _number(text: str) -> Decimal:
    return Decimal(text.replace("\u202f", "").replace("\xa0", "").replace(",", "."))


def _value_and_unit(text: str) -> tuple[Decimal, str]:
    match = VALUE_AND_UNIT.match(text)
    assert match, f"not a value and a unit: {text!r}"
    return _number(match.group(1)), match.group(2)


def _earlier_part_of(bundle: Path, directory: Path) -> Path:
    """The same patient's earlier observations, as a second document: Chet's bundle with only
    the Patient and the Observations made before EARLIER_PART_BEFORE."""
    data = json.loads(bundle.read_text())
    data["entry"] = [
        entry
        for entry in data["entry"]
        if entry["resource"]["resourceType"] == "Patient"
        or (
            entry["resource"]["resourceType"] == "Observation"
            and entry["resource"].get("effectiveDateTime", "9999") < EARLIER_PART_BEFORE
        )
    ]
    path = directory / "Chet_Hoeger_observations_2011-2017.json"
    path.write_text(json.dumps(data))
    return path


def _import(path: Path, capture, **options) -> Document:
    with capture(execute=True):
        report = import_file(path, actor=import_service("browser-test"), **options)
    assert report.outcome == "imported", report
    document = Document.objects.get(uuid=report.document)
    assert document.status == DocumentStatus.READY
    return document


@pytest.fixture
def chet(transactional_db, tmp_path, django_capture_on_commit_callbacks) -> Record:
    """Chet Hoeger (Synthea): his whole bundle, and an earlier part of it as a second document,
    so his body weight is known at several dates from two documents."""
    whole = _import(CHET, django_capture_on_commit_callbacks, create_records=True)
    record = whole.record
    earlier = _import(_earlier_part_of(CHET, tmp_path), django_capture_on_commit_callbacks)
    assert earlier.record_id == record.pk
    record.owner = UserFactory(email="chet@example.test", display_name="Chet Hoeger")
    record.save(update_fields=["owner"])
    return record


@pytest.fixture
def dominique(transactional_db, django_capture_on_commit_callbacks) -> Record:
    """The patient of the French corpus, with the TSH lab report matched to her record by INS."""
    user = UserFactory(email="dominique@example.test", display_name="Dominique Pat-Trois")
    record = RecordFactory(
        owner=user, family_name="Pat-Trois", given_names="Dominique", birth_date=date(1979, 3, 28), ins=INS
    )
    document = _import(LAB_CDA, django_capture_on_commit_callbacks)
    assert document.record_id == record.pk
    return record


def _record_path(record: Record) -> str:
    return f"/records/{record.uuid}/"


def _summary(page):
    return page.locator("main section.summary[aria-labelledby='summary-title']")


def _read_name(fact: ClinicalFact) -> str:
    """The name a French reader reads for the fact (a short test name, else the source's words)."""
    return display_name(code_system=fact.code_system, code=fact.code, display=fact.display, language="fr")


def _result_item(page, display: str):
    """The "Latest results" list item of one measurement, found by its name (data, not our words)."""
    results = _summary(page).locator("section[aria-labelledby='results-title'] li.result")
    return results.filter(has=page.locator(".result-name", has_text=re.compile(rf"^\s*{re.escape(display)}\s*$")))


def _lines(page, section_title_id: str, display: str):
    lines = _summary(page).locator(f"section[aria-labelledby='{section_title_id}'] li")
    return lines.filter(has=page.locator(".line-display", has_text=re.compile(rf"^\s*{re.escape(display)}\s*$")))


def _check_summary_pdf_button(ui, record: Record) -> None:
    """The summary PDF, if the record page offers it yet: the form posts, the export page answers."""
    page = ui.page
    form = page.locator(f'main form[action="/records/{record.uuid}/summary/pdf/"]')
    if form.count() == 0:
        return
    ui.submit(form.locator("button[type=submit], input[type=submit]").first)
    expect(page).to_have_url(re.compile(r"/summary-exports/[0-9a-f-]{36}/$"))
    expect(page.locator("main .summary-export[data-status]")).to_have_count(1)
    expect(page.locator(f'main a[href="{_record_path(record)}"]')).to_have_count(1)


def test_latest_body_weight_and_its_source_are_on_the_first_screen(ui, chet):
    """The issue's acceptance test: from the record's first screen, without opening a document,
    say what the latest body weight is and which document says so."""
    page = ui.page
    errors = ConsoleErrors(page)
    latest = (
        ClinicalFact.objects.filter(record=chet, code=BODY_WEIGHT)
        .select_related("source_document")
        .order_by("-effective_date")
        .first()
    )
    assert latest is not None
    assert latest.source_document is not None
    weights = ClinicalFact.objects.filter(record=chet, code=BODY_WEIGHT)
    assert weights.values("source_document").distinct().count() == 2  # two documents say it...
    assert weights.values("effective_date").distinct().count() >= 2  # ...at several dates
    earliest = weights.order_by("effective_date").first()

    ui.log_in(chet.owner.email, PASSWORD)
    ui.goto(_record_path(chet))
    expect(page).to_have_url(ui.url(_record_path(chet)))
    summary = _summary(page)
    expect(summary).to_have_count(1)
    expect(page.locator("#summary-title")).to_be_in_viewport()  # the first thing below the record's actions
    timeline = page.locator("#timeline-title")
    assert summary.bounding_box()["y"] < timeline.bounding_box()["y"]
    expect(page.locator("main li.document")).to_have_count(2)

    item = _result_item(page, _read_name(latest))
    expect(item).to_have_count(1)
    value, unit = _value_and_unit(item.locator(".result-value").inner_text())
    assert (value, unit) == (_shown(latest.value_decimal), unit_display(latest.unit))
    expect(item).to_contain_text(fr_date(latest.effective_date))
    source = item.locator("a.source")
    expect(source).to_have_count(1)  # the latest weight comes from the whole bundle only
    expect(source).to_have_attribute("href", f"/documents/{latest.source_document.uuid}/")
    expect(source).to_have_accessible_name(latest.source_document.title)
    chart = item.get_by_role("img")
    expect(chart).to_have_count(1)
    expect(chart).to_have_accessible_name(re.compile(re.escape(fr_number(latest.value_decimal))))
    expect(chart).to_have_accessible_name(re.compile(re.escape(fr_number(earliest.value_decimal))))
    before = weights.filter(effective_date__lt=latest.effective_date).order_by("-effective_date").first()
    trend = "rising" if latest.value_decimal > before.value_decimal else "falling"
    if latest.value_decimal == before.value_decimal:
        trend = "stable"
    expect(item).to_contain_text(fr(trend))

    expect(_lines(page, "problems-title", "Cardiac Arrest")).to_have_count(1)
    alerts = summary.get_by_role("note").filter(has=page.locator("#alerts-title"))
    expect(alerts).to_have_count(1)
    expect(alerts.locator(".line-display").filter(has_text=re.compile(r"^\s*Cardiac Arrest\s*$"))).to_have_count(1)
    for line in (_lines(page, "problems-title", "Cardiac Arrest"), alerts.locator("li").first):
        expect(line.locator("a.source").first).to_have_attribute("href", re.compile(r"^/documents/[0-9a-f-]{36}/$"))

    assert not [url for url in page.scan_log.navigations if "/documents/" in url]  # no document was opened
    _check_summary_pdf_button(ui, chet)
    assert errors.unexpected() == []


def test_french_lab_report_result_links_to_the_report_that_says_it(ui, dominique):
    page = ui.page
    errors = ConsoleErrors(page)
    tsh = ClinicalFact.objects.select_related("source_document").get(record=dominique, display__startswith=TSH)
    assert tsh.value_decimal is not None
    assert tsh.unit

    ui.log_in(dominique.owner.email, PASSWORD)
    ui.goto(_record_path(dominique))
    item = _result_item(page, _read_name(tsh))
    expect(item).to_have_count(1)
    value, unit = _value_and_unit(item.locator(".result-value").inner_text())
    assert (value, unit) == (_shown(tsh.value_decimal), unit_display(tsh.unit))
    expect(item).to_contain_text(fr_date(tsh.effective_date))
    expect(item.get_by_role("img")).to_have_count(0)  # one value: no chart
    source = item.locator("a.source")
    expect(source).to_have_count(1)
    expect(source).to_have_attribute("href", f"/documents/{tsh.source_document.uuid}/")

    ui.submit(source)
    expect(page).to_have_url(ui.url(f"/documents/{tsh.source_document.uuid}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(tsh.source_document.title)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(rf"^{TSH}")))
    expect(row).to_have_count(1)
    shown = row.get_by_role("cell").first.inner_text()
    match = re.match(r"\s*(\d+(?:[.,]\d+)?)\s+(\S+)", shown)
    assert match, shown
    assert (_number(match.group(1)), match.group(2)) == (value, unit)
    assert errors.unexpected() == []


def test_medical_profile_lists_the_same_facts_with_their_sources(ui, chet):
    page = ui.page
    latest = ClinicalFact.objects.filter(record=chet, code=BODY_WEIGHT).order_by("-effective_date").first()
    arrest = ClinicalFact.objects.filter(record=chet, kind="condition", display="Cardiac Arrest").first()
    ui.log_in(chet.owner.email, PASSWORD)
    response = ui.goto(f"{_record_path(chet)}profile/")
    if response.status == 404:
        pytest.skip("the medical profile page does not exist yet")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    for fact in (latest, arrest):
        line = page.locator(f'main li.fact[id="{fact.uuid}"]')
        expect(line).to_have_count(1)
        expect(line).to_contain_text(_read_name(fact))
        expect(line.locator(f'a[href="/documents/{fact.source_document.uuid}/"]')).to_have_count(1)
    ui.submit(page.locator(f'main a[href="{_record_path(chet)}"]').first)
    expect(page.locator("#summary-title")).to_have_count(1)
